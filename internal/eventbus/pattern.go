package eventbus

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// Pattern is an EventBridge event pattern: the JSON a rule filters events
// with, matched here as EventBridge matches it, so that the local bus routes
// by the very pattern the AWS stack deploys. It speaks exact values at any
// depth, prefix, suffix, equals-ignore-case (alone, and within prefix,
// suffix and anything-but), anything-but (values, prefix, suffix, wildcard),
// numeric ranges, cidr, exists, wildcard and $or, with EventBridge's array
// semantics: an array in the event (arrays within arrays too) matches if any
// of its elements does, and where it holds objects a nested pattern matches
// within one element, as EventBridge's matcher (aws/event-ruler) does.
// "exists" looks at leaf values, as EventBridge flattens an event into them:
// a field whose parent is missing, an empty array, or an object does not
// exist. A pattern longer than MaxPatternLength is refused, as EventBridge
// refuses it by default.
type Pattern struct {
	raw  string
	root *objectMatcher
}

// MaxPatternLength is the longest event pattern EventBridge takes, in
// characters, without a quota increase.
const MaxPatternLength = 2048

// ParsePattern reads and checks an event pattern.
func ParsePattern(js string) (Pattern, error) {
	dec := json.NewDecoder(strings.NewReader(js))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return Pattern{}, fmt.Errorf("event pattern: %w", err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return Pattern{}, errors.New("event pattern: must be a JSON object")
	}
	root, err := compileObject(obj, "")
	if err != nil {
		return Pattern{}, fmt.Errorf("event pattern: %w", err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, []byte(js)); err != nil {
		return Pattern{}, fmt.Errorf("event pattern: %w", err)
	}
	if n := utf8.RuneCount(compact.Bytes()); n > MaxPatternLength {
		return Pattern{}, fmt.Errorf("event pattern: %d characters, more than EventBridge's %d", n, MaxPatternLength)
	}
	return Pattern{raw: compact.String(), root: root}, nil
}

// MustPattern is ParsePattern for patterns written in the code; it panics on
// a malformed one.
func MustPattern(js string) Pattern {
	p, err := ParsePattern(js)
	if err != nil {
		panic(err)
	}
	return p
}

// Fields is an event pattern written as Go values: each key a field of the
// envelope, each value a nested Fields, the values matched (OneOf), a
// content filter (AnythingBut) or, under "$or", the alternatives. Built
// from the constants that name sources, detail-types and reasons, a rule
// cannot drift from the events it routes.
type Fields map[string]any

// OneOf matches a field equal to one of values.
func OneOf(values ...string) []string { return values }

// AnythingBut matches a field equal to none of values.
func AnythingBut(values ...string) []any {
	return []any{map[string][]string{"anything-but": values}}
}

// Or matches an event that one of the alternatives matches.
func Or(alternatives ...Fields) []Fields { return alternatives }

// PatternOf makes the pattern f describes; it panics on one EventBridge
// would refuse, as MustPattern does.
func PatternOf(f Fields) Pattern {
	b, err := json.Marshal(f)
	if err != nil {
		panic(err)
	}
	return MustPattern(string(b))
}

// SourceAndTypes is the pattern of events from source with one of detailTypes.
func SourceAndTypes(source string, detailTypes ...string) Pattern {
	return PatternOf(Fields{"source": OneOf(source), "detail-type": detailTypes})
}

// JSON is the pattern as EventBridge takes it.
func (p Pattern) JSON() string { return p.raw }

// IsZero reports whether p is no pattern at all.
func (p Pattern) IsZero() bool { return p.root == nil }

// Names reports whether p names the field key at its top level, or in
// every alternative of a top-level $or: an event pattern with neither
// "source" nor "detail-type" is rarely what was meant.
func (p Pattern) Names(key string) bool { return p.root != nil && p.root.names(key) }

func (m *objectMatcher) names(key string) bool {
	if slices.ContainsFunc(m.fields, func(f fieldMatcher) bool { return f.key == key }) {
		return true
	}
	return slices.ContainsFunc(m.ors, func(group []*objectMatcher) bool {
		return !slices.ContainsFunc(group, func(alt *objectMatcher) bool { return !alt.names(key) })
	})
}

// Matches reports whether the event, a JSON object such as an EventBridge
// envelope, matches p. Malformed JSON matches nothing.
func (p Pattern) Matches(event []byte) bool {
	ev, ok := ParseEvent(event)
	return ok && p.MatchesEvent(ev)
}

// Event is an event decoded once for matching against many patterns. Its
// top-level fields are decoded when a pattern first looks at them: rules
// mostly test "source" and "detail-type", and a detail (a checkout's lines)
// can be most of the event. An Event is for one goroutine at a time.
type Event struct{ obj map[string]any }

// ParseEvent decodes event, a JSON object, for MatchesEvent; ok is false
// when it is not one (and then no pattern matches it).
func ParseEvent(event []byte) (ev Event, ok bool) {
	dec := jsontext.NewDecoder(bytes.NewReader(event), jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return Event{}, false
	}
	obj := map[string]any{}
	for dec.PeekKind() != '}' {
		name, err := dec.ReadToken()
		if err != nil {
			return Event{}, false
		}
		key := name.String() // before the next read voids the token
		raw, err := dec.ReadValue()
		if err != nil {
			return Event{}, false
		}
		obj[key] = &lazyValue{raw: slices.Clone(raw)}
	}
	if _, err := dec.ReadToken(); err != nil { // the closing brace
		return Event{}, false
	}
	return Event{obj: obj}, true
}

// lazyValue is a top-level field of an Event, decoded on first use.
type lazyValue struct {
	raw     []byte
	decoded bool
	v       any
}

func (l *lazyValue) value() any {
	if !l.decoded {
		dec := json.NewDecoder(bytes.NewReader(l.raw))
		dec.UseNumber()
		_ = dec.Decode(&l.v) // valid JSON: ParseEvent decoded it as raw
		l.decoded = true
	}
	return l.v
}

// MatchesEvent is Matches for an event already decoded.
func (p Pattern) MatchesEvent(ev Event) bool {
	return p.root != nil && ev.obj != nil && p.root.match(ev.obj)
}

// objectMatcher matches an object: every field, and one alternative of
// every $or.
type objectMatcher struct {
	fields []fieldMatcher
	ors    [][]*objectMatcher
}

// fieldMatcher matches one key: a nested pattern, or a list of conditions
// of which one must hold.
type fieldMatcher struct {
	key    string
	nested *objectMatcher
	conds  []condition
}

func compileObject(obj map[string]any, path string) (*objectMatcher, error) {
	if len(obj) == 0 {
		return nil, fmt.Errorf("%s: an empty object matches nothing", where(path))
	}
	m := &objectMatcher{}
	var later []fieldMatcher // nested objects, matched after the values
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys) // deterministic errors
	for _, k := range keys {
		v := obj[k]
		p := path + "." + k
		switch {
		case k == "$or":
			alts, ok := v.([]any)
			if !ok || len(alts) < 2 {
				return nil, fmt.Errorf("%s: $or takes an array of at least two patterns", where(p))
			}
			var group []*objectMatcher
			for i, a := range alts {
				ao, ok := a.(map[string]any)
				if !ok {
					return nil, fmt.Errorf("%s[%d]: must be an object", where(p), i)
				}
				c, err := compileObject(ao, path)
				if err != nil {
					return nil, err
				}
				group = append(group, c)
			}
			m.ors = append(m.ors, group)
		default:
			switch v := v.(type) {
			case map[string]any:
				n, err := compileObject(v, p)
				if err != nil {
					return nil, err
				}
				later = append(later, fieldMatcher{key: k, nested: n})
			case []any:
				if len(v) == 0 {
					return nil, fmt.Errorf("%s: an empty array matches nothing", where(p))
				}
				f := fieldMatcher{key: k}
				for _, c := range v {
					cond, err := compileCondition(c, p)
					if err != nil {
						return nil, err
					}
					f.conds = append(f.conds, cond)
				}
				m.fields = append(m.fields, f)
			default:
				return nil, fmt.Errorf("%s: must be an array of values or an object", where(p))
			}
		}
	}
	// Every field must match, so their order is free: values first, nested
	// objects after, so that an event whose source or type differs is
	// refused before its detail is decoded.
	m.fields = append(m.fields, later...)
	return m, nil
}

func where(path string) string {
	if path == "" {
		return "pattern"
	}
	return strings.TrimPrefix(path, ".")
}

func (m *objectMatcher) match(event map[string]any) bool {
	for _, f := range m.fields {
		if !f.match(event) {
			return false
		}
	}
	for _, group := range m.ors {
		if !slices.ContainsFunc(group, func(alt *objectMatcher) bool { return alt.match(event) }) {
			return false
		}
	}
	return true
}

func (f fieldMatcher) match(event map[string]any) bool {
	v, present := event[f.key]
	if l, ok := v.(*lazyValue); ok {
		v = l.value()
	}
	if f.nested != nil {
		switch v := v.(type) {
		case map[string]any:
			return f.nested.match(v)
		case []any:
			objects := false
			for _, e := range flatten(v) {
				if o, ok := e.(map[string]any); ok {
					if f.nested.match(o) {
						return true
					}
					objects = true
				}
			}
			if objects {
				return false
			}
		}
		// Nothing below this field: only a pattern all of whose fields may
		// be absent ({"exists": false}) matches.
		return f.nested.match(nil)
	}
	return slices.ContainsFunc(f.conds, func(c condition) bool { return c.match(v, present) })
}

// flatten lists the elements of an array, and of the arrays within it.
func flatten(arr []any) []any {
	if !slices.ContainsFunc(arr, func(e any) bool { _, ok := e.([]any); return ok }) {
		return arr
	}
	var out []any
	for _, e := range arr {
		if inner, ok := e.([]any); ok {
			out = append(out, flatten(inner)...)
		} else {
			out = append(out, e)
		}
	}
	return out
}

// A condition is one element of a pattern's array.
type condition interface {
	match(v any, present bool) bool
}

// leaf applies test to a present value, or to each element of an array
// (and of the arrays within it).
func leaf(v any, present bool, test func(any) bool) bool {
	if !present {
		return false
	}
	if arr, ok := v.([]any); ok {
		return slices.ContainsFunc(flatten(arr), test)
	}
	return test(v)
}

func compileCondition(c any, path string) (condition, error) {
	switch c := c.(type) {
	case nil, string, bool, json.Number:
		return equals{c}, nil
	case map[string]any:
		if len(c) != 1 {
			return nil, fmt.Errorf("%s: a matcher object has exactly one operator", where(path))
		}
		for op, arg := range c {
			return compileOperator(op, arg, path)
		}
	}
	return nil, fmt.Errorf("%s: %v is not a value or a matcher", where(path), c)
}

func compileOperator(op string, arg any, path string) (condition, error) {
	bad := func(want string) error { return fmt.Errorf("%s: %s takes %s", where(path), op, want) }
	switch op {
	case "prefix", "suffix":
		s, ignoreCase, ok := stringArg(arg)
		if !ok {
			return nil, bad(`a string, or {"equals-ignore-case": string}`)
		}
		return affix{suffix: op == "suffix", s: s, ignoreCase: ignoreCase}, nil
	case "equals-ignore-case":
		s, ok := arg.(string)
		if !ok {
			return nil, bad("a string")
		}
		return affix{exact: true, s: s, ignoreCase: true}, nil
	case "wildcard":
		s, ok := arg.(string)
		if !ok {
			return nil, bad("a string")
		}
		return wildcard{s}, nil
	case "exists":
		b, ok := arg.(bool)
		if !ok {
			return nil, bad("true or false")
		}
		return exists{b}, nil
	case "numeric":
		return compileNumeric(arg, bad)
	case "cidr":
		a, ok := arg.(string)
		if !ok {
			return nil, bad("a string")
		}
		prefix, err := netip.ParsePrefix(a)
		if err != nil {
			return nil, bad(fmt.Sprintf("an IPv4 or IPv6 prefix such as 10.0.0.0/24 (%v)", err))
		}
		return cidr{prefix.Masked()}, nil
	case "anything-but":
		return compileAnythingBut(arg, path, bad)
	}
	return nil, fmt.Errorf("%s: unknown operator %q", where(path), op)
}

// stringArg reads "x" or {"equals-ignore-case": "x"}.
func stringArg(arg any) (s string, ignoreCase, ok bool) {
	switch a := arg.(type) {
	case string:
		return a, false, true
	case map[string]any:
		if v, found := a["equals-ignore-case"].(string); found && len(a) == 1 {
			return v, true, true
		}
	}
	return "", false, false
}

// equals is an exact value: a string, a number (compared as a number),
// true, false or null.
type equals struct{ want any }

func (e equals) match(v any, present bool) bool {
	return leaf(v, present, func(got any) bool { return sameValue(got, e.want) })
}

func sameValue(got, want any) bool {
	if gn, ok := got.(json.Number); ok {
		wn, ok := want.(json.Number)
		if !ok {
			return false
		}
		g, gerr := gn.Float64()
		w, werr := wn.Float64()
		return gerr == nil && werr == nil && g == w
	}
	return got == want
}

// affix is prefix, suffix or equals-ignore-case matching of strings.
type affix struct {
	suffix, exact, ignoreCase bool
	s                         string
}

func (a affix) test(got any) bool {
	s, ok := got.(string)
	if !ok {
		return false
	}
	want := a.s
	if a.ignoreCase {
		s, want = strings.ToLower(s), strings.ToLower(want)
	}
	switch {
	case a.exact:
		return s == want
	case a.suffix:
		return strings.HasSuffix(s, want)
	default:
		return strings.HasPrefix(s, want)
	}
}

func (a affix) match(v any, present bool) bool { return leaf(v, present, a.test) }

// wildcard matches strings where * stands for any run of characters; \*
// is a star and \\ a backslash.
type wildcard struct{ pattern string }

func (w wildcard) test(got any) bool {
	s, ok := got.(string)
	return ok && wildcardMatch(w.pattern, s)
}

func (w wildcard) match(v any, present bool) bool { return leaf(v, present, w.test) }

func wildcardMatch(pattern, s string) bool {
	// Split the pattern into literal pieces around unescaped stars.
	var pieces []string
	var cur strings.Builder
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; {
		case c == '\\' && i+1 < len(pattern):
			i++
			cur.WriteByte(pattern[i])
		case c == '*':
			pieces = append(pieces, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	pieces = append(pieces, cur.String())
	if len(pieces) == 1 {
		return s == pieces[0]
	}
	if !strings.HasPrefix(s, pieces[0]) {
		return false
	}
	s = s[len(pieces[0]):]
	last := pieces[len(pieces)-1]
	for _, p := range pieces[1 : len(pieces)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return strings.HasSuffix(s, last)
}

// exists matches a field that has a leaf value: present, and not an object
// nor an array without one (EventBridge matches exists on the leaves it
// flattens an event into); or, wanting false, one that has none.
type exists struct{ want bool }

func (e exists) match(v any, present bool) bool {
	return leaf(v, present, func(x any) bool { _, isObject := x.(map[string]any); return !isObject }) == e.want
}

// cidr matches strings that are IP addresses within a prefix.
type cidr struct{ prefix netip.Prefix }

func (c cidr) match(v any, present bool) bool {
	return leaf(v, present, func(x any) bool {
		s, ok := x.(string)
		if !ok {
			return false
		}
		addr, err := netip.ParseAddr(s)
		return err == nil && c.prefix.Contains(addr.Unmap())
	})
}

// numeric holds every comparison of a range.
type numeric struct {
	ops  []string
	nums []float64
}

// numericLimit is EventBridge's range for numeric matching.
const numericLimit = 5e9

func compileNumeric(arg any, bad func(string) error) (condition, error) {
	args, ok := arg.([]any)
	if !ok || len(args) == 0 || len(args)%2 != 0 || len(args) > 4 {
		return nil, bad(`one or two pairs of an operator and a number, such as [">", 0, "<=", 5]`)
	}
	var n numeric
	for i := 0; i < len(args); i += 2 {
		op, ok := args[i].(string)
		num, isNum := args[i+1].(json.Number)
		if !ok || !isNum || !slices.Contains([]string{"=", "<", "<=", ">", ">="}, op) {
			return nil, bad(`operators =, <, <=, >, >= each followed by a number`)
		}
		f, err := num.Float64()
		if err != nil || math.Abs(f) > numericLimit {
			return nil, bad(fmt.Sprintf("numbers from -%g to %g", numericLimit, numericLimit))
		}
		n.ops, n.nums = append(n.ops, op), append(n.nums, f)
	}
	return n, nil
}

func (n numeric) test(got any) bool {
	num, ok := got.(json.Number)
	if !ok {
		return false
	}
	f, err := num.Float64()
	if err != nil {
		return false
	}
	for i, op := range n.ops {
		w := n.nums[i]
		var ok bool
		switch op {
		case "=":
			ok = f == w
		case "<":
			ok = f < w
		case "<=":
			ok = f <= w
		case ">":
			ok = f > w
		case ">=":
			ok = f >= w
		}
		if !ok {
			return false
		}
	}
	return true
}

func (n numeric) match(v any, present bool) bool { return leaf(v, present, n.test) }

// anythingBut matches a present string or number that none of its inner
// tests accepts.
type anythingBut struct{ not []func(any) bool }

func compileAnythingBut(arg any, path string, bad func(string) error) (condition, error) {
	var a anythingBut
	scalar := func(v any) error {
		switch v.(type) {
		case string, json.Number:
			a.not = append(a.not, func(got any) bool { return sameValue(got, v) })
			return nil
		}
		return bad("a string, a number, a list of them, or one of prefix, suffix, equals-ignore-case and wildcard")
	}
	switch arg := arg.(type) {
	case []any:
		if len(arg) == 0 {
			return nil, bad("a non-empty list")
		}
		for _, v := range arg {
			if err := scalar(v); err != nil {
				return nil, err
			}
		}
	case map[string]any:
		if len(arg) != 1 {
			return nil, bad("one operator")
		}
		for op, inner := range arg {
			switch op {
			case "prefix", "suffix":
				s, ok := inner.(string)
				if !ok {
					return nil, bad(op + " with a string")
				}
				a.not = append(a.not, affix{suffix: op == "suffix", s: s}.test)
			case "wildcard":
				s, ok := inner.(string)
				if !ok {
					return nil, bad("wildcard with a string")
				}
				a.not = append(a.not, wildcard{s}.test)
			case "equals-ignore-case":
				values := []any{inner}
				if list, ok := inner.([]any); ok {
					values = list
				}
				for _, v := range values {
					s, ok := v.(string)
					if !ok {
						return nil, bad("equals-ignore-case with a string or a list of strings")
					}
					a.not = append(a.not, affix{exact: true, s: s, ignoreCase: true}.test)
				}
			default:
				return nil, fmt.Errorf("%s: anything-but does not take %q", where(path), op)
			}
		}
	default:
		if err := scalar(arg); err != nil {
			return nil, err
		}
	}
	return a, nil
}

func (a anythingBut) test(got any) bool {
	switch got.(type) {
	case string, json.Number:
	default:
		return false
	}
	return !slices.ContainsFunc(a.not, func(f func(any) bool) bool { return f(got) })
}

func (a anythingBut) match(v any, present bool) bool { return leaf(v, present, a.test) }
