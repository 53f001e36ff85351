// Command eventschemas writes the JSON Schemas of the events (package
// eventschema) into a directory, api/events by default, and the AsyncAPI
// document made from them beside it (api/asyncapi.yaml): make schemas runs it.
package main

import (
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/eventshop/eventshop/internal/eventschema"
)

func main() {
	dir := flag.String("dir", filepath.Join("api", "events"), "where to write the schemas")
	flag.Parse()
	files, err := eventschema.Generate()
	if err == nil {
		err = os.MkdirAll(*dir, 0o755)
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if err != nil {
			break
		}
		err = os.WriteFile(filepath.Join(*dir, name), files[name], 0o644)
	}
	var doc []byte
	if err == nil {
		doc, err = eventschema.AsyncAPI(os.DirFS(*dir))
	}
	asyncapi := filepath.Join(filepath.Dir(*dir), "asyncapi.yaml")
	if err == nil {
		err = os.WriteFile(asyncapi, doc, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "eventschemas:", err)
		os.Exit(1)
	}
	fmt.Printf("eventschemas: %d schemas in %s, and %s\n", len(files), *dir, asyncapi)
}
