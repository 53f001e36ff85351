# eventshop: `make run` starts the shop on one machine, `make test` runs every test.
GO ?= go

.PHONY: run build test vet fmt bench clean

run: build
	./bin/shop serve --addr 127.0.0.1:8080 --data ./data

build:
	$(GO) build -o bin/shop ./cmd/shop

# dynalite, the DynamoDB-compatible server the DynamoDB adapters' tests run against.
DYNALITE := tools/dynalite/node_modules/dynalite/cli.js

$(DYNALITE): tools/dynalite/package.json tools/dynalite/package-lock.json
	npm ci --prefix tools/dynalite --no-audit --no-fund
	@touch $@

test: vet $(DYNALITE)
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) test -race -count=1 ./...

vet:
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin dist
