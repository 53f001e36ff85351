// This module compiles the Go client oapi-codegen generates from
// api/openapi.yaml (make api-check), to prove the contract makes a usable
// client with sane names. The generated code is a build output: not committed.
module github.com/eventshop/eventshop/tools/apiclient

go 1.26.8

require github.com/oapi-codegen/runtime v1.9.0

require (
	github.com/apapsch/go-jsonmerge/v2 v2.0.0 // indirect
	github.com/google/uuid v1.6.0 // indirect
)
