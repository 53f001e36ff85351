package sqlitedb

import (
	"strings"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
)

// statement is what the semantic conventions name a SQL statement's span
// by: its operation (SELECT, INSERT, ...) and the table it reads or writes.
type statement struct{ operation, table string }

// attributes are s's span attributes: db.operation.name and, when it names
// one, db.collection.name.
func (s statement) attributes() []attribute.KeyValue {
	if s.table == "" {
		return []attribute.KeyValue{semconv.DBOperationName(s.operation)}
	}
	return []attribute.KeyValue{semconv.DBOperationName(s.operation), semconv.DBCollectionName(s.table)}
}

// summary is a statement with its span's name and attributes, made once.
type summary struct {
	name  string
	attrs []attribute.KeyValue
}

func (s statement) summary() summary { return summary{s.name(), s.attributes()} }

// name is the span's name, "<operation> <table>", or the operation alone.
func (s statement) name() string {
	if s.table == "" {
		return s.operation
	}
	return s.operation + " " + s.table
}

// summaries memoises summarize's summaries: the shop's statements are
// constants, few.
var summaries sync.Map // query → summary

// summarized is query's summary, made once.
func summarized(query string) summary {
	if s, ok := summaries.Load(query); ok {
		return s.(summary)
	}
	s := summarize(query).summary()
	summaries.Store(query, s)
	return s
}

// summarize reads query's operation and its table: the first keyword
// (after a WITH clause's common table expressions) and the table that
// follows FROM, INTO or UPDATE, outside parentheses. A statement it cannot
// read has an operation only.
func summarize(query string) statement {
	words := tokens(query)
	var s statement
	i := 0
	if i < len(words) && words[i] == "WITH" { // the statement after the CTEs, at depth 0
		for i++; i < len(words) && !isOperation(words[i]); i++ {
		}
	}
	if i < len(words) {
		s.operation = strings.ToUpper(words[i])
	}
	for j := i + 1; j < len(words) && s.table == ""; j++ {
		switch words[j] {
		case "FROM", "INTO":
			if s.operation != "UPDATE" && j+1 < len(words) {
				s.table = strings.ToLower(words[j+1])
			}
		}
		if s.operation == "UPDATE" && j == i+1 {
			s.table = strings.ToLower(words[j])
			if w := words[j]; w == "OR" && j+2 < len(words) { // UPDATE OR IGNORE t
				s.table = strings.ToLower(words[j+2])
			}
		}
	}
	if s.table == "(" || isKeyword(strings.ToUpper(s.table)) {
		s.table = ""
	}
	return s
}

// tokens splits query into its words outside parentheses and quotes,
// keywords upper-cased; a parenthesised group is one "(" token.
func tokens(query string) []string {
	var out []string
	depth, quote := 0, byte(0)
	start := -1
	flush := func(end int) {
		if start >= 0 && depth == 0 {
			w := query[start:end]
			if isKeyword(strings.ToUpper(w)) {
				w = strings.ToUpper(w)
			}
			out = append(out, strings.Trim(w, `"`))
		}
		start = -1
	}
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'':
			flush(i)
			quote = c
		case c == '(':
			flush(i)
			if depth == 0 {
				out = append(out, "(")
			}
			depth++
		case c == ')':
			flush(i)
			depth = max(depth-1, 0)
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == ';':
			flush(i)
		default:
			if start < 0 {
				start = i
			}
		}
	}
	flush(len(query))
	return out
}

func isOperation(w string) bool {
	switch w {
	case "SELECT", "INSERT", "UPDATE", "DELETE", "REPLACE":
		return true
	}
	return false
}

func isKeyword(w string) bool {
	switch w {
	case "WITH", "SELECT", "INSERT", "UPDATE", "DELETE", "REPLACE", "FROM", "INTO", "OR", "IGNORE", "WHERE", "SET", "VALUES", "AS", "JSON_EACH":
		return true
	}
	return false
}
