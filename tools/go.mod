// tools/ holds npm packages, not Go code; this file keeps the Go files some
// of them ship (CDK init templates) out of the main module's ./... patterns.
module github.com/eventshop/eventshop/tools

go 1.26.8
