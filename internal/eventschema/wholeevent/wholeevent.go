// Package wholeevent builds the schema of a whole event from the committed
// files (api.EventSchemas): the envelope with one contract's source and
// detail-type fixed and its detail's schema. The AsyncAPI document and the
// AWS stack's schema registry describe events so. It links nothing but the
// standard library, for the CDK app.
package wholeevent

import (
	"encoding/json"
	"fmt"
	"io/fs"

	"github.com/eventshop/eventshop/internal/events"
)

// Schema is c's whole event: api/events/Envelope.json with source and
// detail-type as constants and detail as api/events/<detail-type>.json,
// without the files' $schema and $id (the document that takes it names its
// own draft).
func Schema(files fs.FS, c events.Contract) (map[string]any, error) {
	env, err := read(files, "Envelope.json")
	if err != nil {
		return nil, err
	}
	detail, err := read(files, c.DetailType+".json")
	if err != nil {
		return nil, err
	}
	props := env["properties"].(map[string]any)
	props["source"] = map[string]any{"type": "string", "const": c.Source}
	props["detail-type"] = map[string]any{"type": "string", "const": c.DetailType}
	props["detail"] = detail
	env["title"] = c.DetailType
	env["description"] = detail["description"]
	return env, nil
}

func read(files fs.FS, file string) (map[string]any, error) {
	b, err := fs.ReadFile(files, file)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	delete(m, "$schema")
	delete(m, "$id")
	return m, nil
}
