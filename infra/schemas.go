package main

import (
	"encoding/json"
	"fmt"
	"io/fs"

	"github.com/aws/aws-cdk-go/awscdk/v2/awseventschemas"
	"github.com/aws/jsii-runtime-go"

	"github.com/eventshop/eventshop/api"
	"github.com/eventshop/eventshop/internal/events"
)

// SchemaRegistry names the registry that holds the events' schemas on AWS.
const SchemaRegistry = "eventshop"

// schemaRegistry puts every event's schema in an EventBridge schema
// registry, where EventBridge's tools (code bindings, the console) read it.
func (s *shop) schemaRegistry() {
	registry := awseventschemas.NewCfnRegistry(s.stack, jsii.String("EventSchemaRegistry"), &awseventschemas.CfnRegistryProps{
		RegistryName: jsii.String(SchemaRegistry),
		Description:  jsii.String("The events eventshop's services publish (api/events in its repository)"),
	})
	for _, c := range events.Contracts() {
		content, err := draft4(c)
		if err != nil {
			panic(err)
		}
		schema := awseventschemas.NewCfnSchema(s.stack, jsii.String("EventSchema"+c.DetailType), &awseventschemas.CfnSchemaProps{
			RegistryName: registry.AttrRegistryName(),
			SchemaName:   jsii.String(c.Source + "@" + c.DetailType),
			Type:         jsii.String("JSONSchemaDraft4"),
			Content:      jsii.String(string(content)),
			Description:  jsii.String(fmt.Sprintf("%s, sent by the %s service", c.DetailType, c.Publisher)),
		})
		schema.AddDependency(registry)
	}
}

// draft4 is the registry's schema of a whole event of contract c: the
// envelope of api/events/Envelope.json with c's source and detail-type, and
// the detail of api/events/<detail-type>.json. The registry takes JSON
// Schema draft 4 (or OpenAPI 3); the 2020-12 files use only keywords draft 4
// shares (type, properties, required, items, additionalProperties,
// multipleOf, format, title, description), so converting them is naming the
// draft in $schema, dropping $id (draft 4's is "id", and the registry names
// the schema itself) and the example (draft 4 has no "examples"), and
// writing each constant as a one-value enum.
func draft4(c events.Contract) ([]byte, error) {
	read := func(file string) (map[string]any, error) {
		b, err := fs.ReadFile(api.EventSchemas, file)
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
	env, err := read("Envelope.json")
	if err != nil {
		return nil, err
	}
	detail, err := read(c.DetailType + ".json")
	if err != nil {
		return nil, err
	}
	delete(detail, "examples") // a keyword of draft 6 on
	props := env["properties"].(map[string]any)
	props["source"] = map[string]any{"type": "string", "enum": []string{c.Source}}
	props["detail-type"] = map[string]any{"type": "string", "enum": []string{c.DetailType}}
	props["detail"] = detail
	env["$schema"] = "http://json-schema.org/draft-04/schema#"
	env["title"] = c.DetailType
	env["description"] = detail["description"]
	return json.Marshal(env)
}
