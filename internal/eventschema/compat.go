package eventschema

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
)

// Breaking lists what changed from the schema old to the schema new that
// breaks a consumer written for old: a field removed (or renamed), a type
// changed, a field made required, an enum value removed, at any depth.
// Adding an optional field breaks nothing. A breaking change is a new
// detail-type (OrderPlacedV2, say), published beside the old one during a
// transition, not a change to the old one's schema.
func Breaking(old, new []byte) ([]string, error) {
	var o, n map[string]any
	if err := json.Unmarshal(old, &o); err != nil {
		return nil, fmt.Errorf("old schema: %w", err)
	}
	if err := json.Unmarshal(new, &n); err != nil {
		return nil, fmt.Errorf("new schema: %w", err)
	}
	var out []string
	breaking(o, n, "", &out)
	return out, nil
}

func breaking(o, n map[string]any, path string, out *[]string) {
	at := path
	if at == "" {
		at = "the detail"
	}
	if ot, nt := o["type"], n["type"]; fmt.Sprint(ot) != fmt.Sprint(nt) {
		*out = append(*out, fmt.Sprintf("%s: type %v became %v", at, ot, nt))
		return
	}
	if oe, ok := o["enum"].([]any); ok {
		ne, _ := n["enum"].([]any)
		for _, v := range oe {
			if !slices.ContainsFunc(ne, func(x any) bool { return fmt.Sprint(x) == fmt.Sprint(v) }) {
				*out = append(*out, fmt.Sprintf("%s: enum value %v removed", at, v))
			}
		}
	}
	oldRequired, newRequired := names(o["required"]), names(n["required"])
	for _, r := range newRequired {
		if !slices.Contains(oldRequired, r) {
			*out = append(*out, fmt.Sprintf("%s: %s made required", at, join(path, r)))
		}
	}
	op, _ := o["properties"].(map[string]any)
	np, _ := n["properties"].(map[string]any)
	for _, name := range slices.Sorted(maps.Keys(op)) {
		nv, ok := np[name].(map[string]any)
		if !ok {
			*out = append(*out, fmt.Sprintf("%s: %s removed", at, join(path, name)))
			continue
		}
		if ov, ok := op[name].(map[string]any); ok {
			breaking(ov, nv, join(path, name), out)
		}
	}
	if oi, ok := o["items"].(map[string]any); ok {
		if ni, ok := n["items"].(map[string]any); ok {
			breaking(oi, ni, path+"[]", out)
		}
	}
}

func names(v any) []string {
	xs, _ := v.([]any)
	var out []string
	for _, x := range xs {
		out = append(out, fmt.Sprint(x))
	}
	return out
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
