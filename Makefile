# eventshop: `make run` starts the shop on one machine, `make test` runs every test.
GO ?= go

.PHONY: run build test vet check-tree api-check asyncapi-check fmt fuzz bench loadtest sim schemas release-schemas client mutation clean lambdas synth deploy destroy

run: build
	./bin/shop serve --addr 127.0.0.1:8080 --data ./data

build:
	$(GO) build -o bin/shop ./cmd/shop

# dynalite, the DynamoDB-compatible server the DynamoDB adapters' tests run against.
DYNALITE := tools/dynalite/node_modules/dynalite/cli.js

$(DYNALITE): tools/dynalite/package.json tools/dynalite/package-lock.json
	npm ci --prefix tools/dynalite --no-audit --no-fund
	@touch $@

# axe-core, which the browser tests (web/) inject to check every page's accessibility.
AXE := tools/axe/node_modules/axe-core/axe.min.js

$(AXE): tools/axe/package.json tools/axe/package-lock.json
	npm ci --prefix tools/axe --no-audit --no-fund
	@touch $@

# Redocly's OpenAPI linter, and the oapi-codegen that makes a Go client of the contract.
REDOCLY := tools/redocly/node_modules/.bin/redocly
OAPI_CODEGEN_VERSION := v2.8.2

$(REDOCLY): tools/redocly/package.json tools/redocly/package-lock.json
	npm ci --prefix tools/redocly --no-audit --no-fund
	@touch $@

OAPI_CODEGEN := $(GO) run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen@$(OAPI_CODEGEN_VERSION) -generate types,client -package client

# api/openapi.yaml passes Redocly's recommended rules without a warning, and the Go
# client committed in client/ is what oapi-codegen makes of it.
api-check: $(REDOCLY)
	@mkdir -p bin
	@REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true $(REDOCLY) lint --extends recommended api/openapi.yaml > bin/redocly.log 2>&1 \
	  || { cat bin/redocly.log; exit 1; }
	@if grep -Eq 'You have [0-9]+ warning' bin/redocly.log; then cat bin/redocly.log; echo "api/openapi.yaml: Redocly warnings"; exit 1; fi
	@echo "api/openapi.yaml: Redocly's recommended rules pass without a warning"
	@$(OAPI_CODEGEN) -o bin/client.gen.go api/openapi.yaml
	@cmp -s bin/client.gen.go client/client.gen.go || { echo "client/client.gen.go is not what api/openapi.yaml makes: run make client"; exit 1; }
	@echo "client/client.gen.go: what oapi-codegen $(OAPI_CODEGEN_VERSION) makes of api/openapi.yaml"

# client writes the Go client of the API from api/openapi.yaml.
client:
	$(OAPI_CODEGEN) -o client/client.gen.go api/openapi.yaml

# The AsyncAPI CLI, which validates api/asyncapi.yaml (its analytics off).
ASYNCAPI := tools/asyncapi/node_modules/.bin/asyncapi

$(ASYNCAPI): tools/asyncapi/package.json tools/asyncapi/package-lock.json
	npm ci --prefix tools/asyncapi --no-audit --no-fund
	@touch $@

# api/asyncapi.yaml is valid AsyncAPI with no error or warning (information is
# allowed: the CLI suggests the newer 3.1).
asyncapi-check: $(ASYNCAPI)
	@mkdir -p bin
	@ASYNCAPI_METRICS_CONFIG_PATH=$(CURDIR)/tools/asyncapi/analytics.json SUPPRESS_NO_CONFIG_WARNING=true \
	  $(ASYNCAPI) validate api/asyncapi.yaml > bin/asyncapi.log 2>&1 || { cat bin/asyncapi.log; exit 1; }
	@if grep -Eq '\(([1-9][0-9]*) errors?|, [1-9][0-9]* warnings?' bin/asyncapi.log; then cat bin/asyncapi.log; echo "api/asyncapi.yaml: errors or warnings"; exit 1; fi
	@grep -q 'is valid' bin/asyncapi.log || { cat bin/asyncapi.log; exit 1; }
	@echo "api/asyncapi.yaml: valid AsyncAPI, no error or warning"

# The AWS Lambda Runtime Interface Emulator, which runs the Lambda binaries in tests.
RIE_VERSION := v0.0.0-20261030222936-bef5c4ba774d
RIE := bin/aws-lambda-rie

$(RIE):
	GOBIN=$(CURDIR)/bin $(GO) install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$(RIE_VERSION)

# jsii (under the CDK Go bindings) warns on every start that Node.js 20, this machine's, is past its end of life.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

# staticcheck, pinned; make test holds both modules to it.
STATICCHECK := $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2

test: vet check-tree api-check asyncapi-check $(DYNALITE) $(RIE) $(AXE)
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(STATICCHECK) ./...
	$(GO) test -race -count=1 ./...
	@echo "infra: CDK assertion tests (the first build of the CDK module takes a few minutes)"
	cd infra && $(GO) vet ./... && $(STATICCHECK) ./... && $(GO) test -count=1 ./...

# One Lambda function per directory under cmd/lambda, built for AWS (linux/arm64)
# without the local adapters (the nolocal tag: no SQLite in a function).
# OTLP_ENDPOINT=<url> (for synth and deploy too) links the OTLP trace exporter into
# the functions and has the stack send their spans to url; without it, none is sent.
LAMBDAS := $(filter-out internal,$(notdir $(patsubst %/,%,$(wildcard cmd/lambda/*/))))
LAMBDA_ARCH ?= arm64
OTLP_ENDPOINT ?=
comma := ,
LAMBDA_TAGS := lambda.norpc$(comma)nolocal$(if $(OTLP_ENDPOINT),$(comma)otlp)
export EVENTSHOP_OTLP_ENDPOINT := $(OTLP_ENDPOINT)
# OTLP_LAYER_ARN=<arn> adds a layer to every function, such as the ADOT collector's
# (then OTLP_ENDPOINT=http://localhost:4318).
export EVENTSHOP_OTLP_LAYER_ARN := $(OTLP_LAYER_ARN)
# ARCHIVE_DAYS=<days> sets how long the bus's archive keeps events (30 if unset).
export EVENTSHOP_ARCHIVE_DAYS := $(ARCHIVE_DAYS)
# DEPLOYMENT=all-at-once (a development stage) moves the functions' live aliases to a
# new version at once; the default, canary, moves a tenth of the traffic for five minutes.
export EVENTSHOP_DEPLOYMENT := $(DEPLOYMENT)

lambdas:
	@for fn in $(LAMBDAS); do \
	  echo "lambda $$fn: dist/$$fn/bootstrap, dist/$$fn.zip"; \
	  GOOS=linux GOARCH=$(LAMBDA_ARCH) CGO_ENABLED=0 $(GO) build -tags $(LAMBDA_TAGS) -trimpath -ldflags='-s -w' \
	    -o dist/$$fn/bootstrap ./cmd/lambda/$$fn || exit 1; \
	  $(GO) run github.com/aws/aws-lambda-go/cmd/build-lambda-zip -o dist/$$fn.zip dist/$$fn/bootstrap 2>/dev/null || exit 1; \
	done

CDK := tools/cdk/node_modules/.bin/cdk

$(CDK): tools/cdk/package.json tools/cdk/package-lock.json
	npm ci --prefix tools/cdk --no-audit --no-fund
	@touch $@

# cdk.out/ from the Go CDK app; needs no AWS credentials.
synth: lambdas
	cd infra && CDK_OUTDIR=../cdk.out $(GO) run .
	@echo "synthesized cdk.out/EventShop.template.json"

# Deploy and destroy need AWS credentials in the environment (see README, On AWS).
deploy: lambdas $(CDK)
	cd infra && ../$(CDK) deploy --require-approval broadening

destroy: $(CDK)
	cd infra && ../$(CDK) destroy

vet:
	$(GO) vet ./...

# The events' JSON Schemas in api/events, from their Go types (package
# eventschema); make test fails while the committed ones differ.
schemas:
	$(GO) run ./cmd/eventschemas --dir api/events

# The schemas as released, which make test holds the current ones
# compatible with: run when a release goes out.
release-schemas: schemas
	rm -rf api/events/released && mkdir -p api/events/released && cp api/events/*.json api/events/released/

# No build output is tracked: an executable must be a script, and no file an ELF binary.
check-tree:
	@sh tools/checktree/checktree.sh

fmt:
	gofmt -w $$(git ls-files '*.go')

# Every fuzz target in turn, FUZZTIME each (make test runs only their seed corpora).
FUZZTIME ?= 30s
FUZZ_TARGETS := FuzzCreateProduct:./internal/catalog/httpapi FuzzUpdateProduct:./internal/catalog/httpapi \
	FuzzReplaceBasket:./internal/basket/httpapi FuzzCheckout:./internal/basket/httpapi \
	FuzzOrderRequests:./internal/ordering/httpapi FuzzStockBodies:./internal/inventory/httpapi FuzzVerify:./internal/auth/localjwt

fuzz:
	@for t in $(FUZZ_TARGETS); do \
	  name=$${t%%:*}; pkg=$${t#*:}; echo "fuzz $$name ($(FUZZTIME))"; \
	  $(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	done

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# The performance targets, measured (not asserted) on this machine: the shop
# against a bare net/http server, the disk's commit rate and hello-world
# Lambda functions. About three minutes. wrk, the reads' load
# generator, comes from Debian's package.
WRK := /usr/bin/wrk

$(WRK):
	apt-get update && apt-get install -y --no-install-recommends wrk

loadtest: build $(RIE) $(WRK)
	$(GO) run ./cmd/loadtest --shop bin/shop --rie $(RIE)

# The whole AWS choreography under faults (internal/awssim), for SEEDS seeds
# (make test runs 10): the runs, the faults injected by kind, the orders by
# status, and every broken invariant with its seed and trace. Replay one
# seed: go test ./internal/awssim -run TestSimulation -seed=N
SEEDS ?= 500

sim: $(DYNALITE)
	$(GO) test -count=1 -timeout 60m -run TestSimulation -v ./internal/awssim -args -seeds $(SEEDS)

# Mutation testing (not part of make test; takes several minutes): gremlins mutates
# the packages that hold the shop's rules and runs each one's own tests, then prints
# the mutants that lived and each package's efficacy. MUTATE=internal/money limits it.
GREMLINS_VERSION := v0.6.0
GREMLINS := bin/gremlins

$(GREMLINS):
	GOBIN=$(CURDIR)/bin $(GO) install github.com/go-gremlins/gremlins/cmd/gremlins@$(GREMLINS_VERSION)

mutation: $(GREMLINS) $(DYNALITE) $(RIE)
	@sh tools/mutation/run.sh $(CURDIR)/$(GREMLINS) $(MUTATE)

clean:
	rm -rf bin dist cdk.out
