// Package eventschema makes the JSON Schemas (draft 2020-12) of the events'
// details, and of the EventBridge envelope they travel in, from their Go
// types (events.Contracts), and validates events against them. The schemas
// are committed in api/events (make schemas writes them); the tests hold
// every producer to them. Neither the shop nor the Lambda functions link
// this package.
package eventschema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"reflect"
	"time"

	"github.com/invopop/jsonschema"
	jsonschema6 "github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/money"
)

// EnvelopeFile is the envelope's schema's file name; a detail's is its
// detail-type's (File).
const EnvelopeFile = "Envelope.json"

// File names the schema file of a detail-type.
func File(detailType string) string { return detailType + ".json" }

// ID is the $id of a schema file.
func ID(file string) string { return "https://eventshop.example/schemas/events/" + file }

// Generate returns every schema, by file name, as make schemas writes them.
func Generate() (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, c := range events.Contracts() {
		s := reflector().Reflect(c.Example)
		example, err := json.Marshal(c.Example)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.DetailType, err)
		}
		s.Examples = []any{json.RawMessage(example)}
		s.ID = jsonschema.ID(ID(File(c.DetailType)))
		s.Title = c.DetailType
		s.Description = fmt.Sprintf("The detail of %s, sent by the %s service (source %s).", c.DetailType, c.Publisher, c.Source)
		b, err := encode(s)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.DetailType, err)
		}
		out[File(c.DetailType)] = b
	}
	s := reflector().Reflect(events.Envelope{})
	s.ID = jsonschema.ID(ID(EnvelopeFile))
	s.Title = "EventBridge envelope"
	s.Description = "The event EventBridge delivers (and the local bus, the same): a consumer reads it as an SQS message's body; detail holds one of the details."
	b, err := encode(s)
	if err != nil {
		return nil, err
	}
	out[EnvelopeFile] = b
	return out, nil
}

// reflector reads the Go types as encoding/json writes them: fields without
// omitempty are required, no other field is allowed, and money is a number
// of cents written with at most two decimals.
func reflector() *jsonschema.Reflector {
	return &jsonschema.Reflector{
		DoNotReference: true,
		Mapper: func(t reflect.Type) *jsonschema.Schema {
			switch t {
			case reflect.TypeFor[money.Cents]():
				return &jsonschema.Schema{Type: "number", MultipleOf: json.Number("0.01"), Description: "an amount of money, with at most two decimals"}
			case reflect.TypeFor[time.Time]():
				return &jsonschema.Schema{Type: "string", Format: "date-time"}
			case reflect.TypeFor[json.RawMessage]():
				return &jsonschema.Schema{Type: "object"}
			}
			return nil
		},
	}
}

func encode(s *jsonschema.Schema) ([]byte, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// Validator holds events to the committed schemas, with
// github.com/santhosh-tekuri/jsonschema (formats asserted).
type Validator struct {
	envelope *jsonschema6.Schema
	details  map[string]*jsonschema6.Schema // by detail-type
}

// NewValidator compiles the schemas in files (api.EventSchemas).
func NewValidator(files fs.FS) (*Validator, error) {
	c := jsonschema6.NewCompiler()
	c.AssertFormat()
	compile := func(file string) (*jsonschema6.Schema, error) {
		f, err := files.Open(file)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		doc, err := jsonschema6.UnmarshalJSON(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		if err := c.AddResource(ID(file), doc); err != nil {
			return nil, err
		}
		return c.Compile(ID(file))
	}
	v := &Validator{details: map[string]*jsonschema6.Schema{}}
	var err error
	if v.envelope, err = compile(EnvelopeFile); err != nil {
		return nil, err
	}
	for _, ct := range events.Contracts() {
		if v.details[ct.DetailType], err = compile(File(ct.DetailType)); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// Detail checks an event's detail against its detail-type's schema.
func (v *Validator) Detail(detailType string, detail []byte) error {
	s, ok := v.details[detailType]
	if !ok {
		return fmt.Errorf("detail-type %q has no schema: add it to events.Contracts", detailType)
	}
	doc, err := jsonschema6.UnmarshalJSON(bytes.NewReader(detail))
	if err != nil {
		return fmt.Errorf("%s: %w", detailType, err)
	}
	if err := s.Validate(doc); err != nil {
		return fmt.Errorf("%s: %w", detailType, err)
	}
	return nil
}

// Envelope checks an EventBridge envelope, and its detail.
func (v *Validator) Envelope(body []byte) error {
	doc, err := jsonschema6.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return err
	}
	if err := v.envelope.Validate(doc); err != nil {
		return fmt.Errorf("envelope: %w", err)
	}
	var e struct {
		DetailType string          `json:"detail-type"`
		Detail     json.RawMessage `json:"detail"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		return err
	}
	return v.Detail(e.DetailType, e.Detail)
}
