package main

import (
	"encoding/json"
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2/awseventschemas"
	"github.com/aws/jsii-runtime-go"

	"github.com/eventshop/eventshop/api"
	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/eventschema/wholeevent"
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

// draft4 is the registry's schema of a whole event of contract c
// (wholeevent.Schema). The registry takes JSON Schema draft 4 (or OpenAPI
// 3); the 2020-12 files use only keywords draft 4 shares (type, properties,
// required, items, additionalProperties, multipleOf, format, title,
// description) but for the example, so converting is naming the draft,
// dropping the example, and writing each constant as a one-value enum.
func draft4(c events.Contract) ([]byte, error) {
	s, err := wholeevent.Schema(api.EventSchemas, c)
	if err != nil {
		return nil, err
	}
	props := s["properties"].(map[string]any)
	delete(props["detail"].(map[string]any), "examples")
	props["source"] = map[string]any{"type": "string", "enum": []string{c.Source}}
	props["detail-type"] = map[string]any{"type": "string", "enum": []string{c.DetailType}}
	s["$schema"] = "http://json-schema.org/draft-04/schema#"
	return json.Marshal(s)
}
