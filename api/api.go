// Package api holds the HTTP contract, api/openapi.yaml, which the local shop
// serves at /openapi.yaml and a test holds to the services' routes.
package api

import _ "embed"

// OpenAPI is the OpenAPI 3.0 document of the shop's HTTP API.
//
//go:embed openapi.yaml
var OpenAPI []byte
