// Package api holds the HTTP contract, api/openapi.yaml, which the local shop
// serves at /openapi.yaml and a test holds to the services' routes, and the
// events' JSON Schemas, api/events (made by make schemas, package
// eventschema), to which the tests hold every producer.
package api

import (
	"embed"
	"io/fs"
)

//go:embed events/*.json
var eventSchemas embed.FS

// EventSchemas holds each event detail's schema (<detail-type>.json) and the
// envelope's (Envelope.json).
var EventSchemas, _ = fs.Sub(eventSchemas, "events")

// AsyncAPI is the AsyncAPI 3.0 document of the shop's events (make schemas
// writes it; eventschema.AsyncAPI).
//
//go:embed asyncapi.yaml
var AsyncAPI []byte

//go:embed events/released/*.json
var releasedSchemas embed.FS

// ReleasedEventSchemas holds the schemas as last released (make
// release-schemas copies them): consumers may be written against them, so
// the current ones must stay compatible (eventschema.Breaking).
var ReleasedEventSchemas, _ = fs.Sub(releasedSchemas, "events/released")

// OpenAPI is the OpenAPI 3.0 document of the shop's HTTP API.
//
//go:embed openapi.yaml
var OpenAPI []byte
