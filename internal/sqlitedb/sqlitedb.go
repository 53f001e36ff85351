// Package sqlitedb opens the SQLite databases of the local runtime with the
// settings every store needs: WAL, full sync, a busy timeout and write
// transactions that take the write lock up front.
package sqlitedb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/XSAM/otelsql"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric/noop"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
	"modernc.org/sqlite" // pure-Go driver: no C toolchain needed

	"github.com/eventshop/eventshop/internal/page"
)

// Open opens (creating if needed) the database at path and applies schema,
// which must be idempotent (create ... if not exists).
func Open(ctx context.Context, path, schema string) (*sql.DB, error) {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)") // a committed write survives power loss, not only a process kill
	q.Add("_pragma", "foreign_keys(1)")
	// Each connection's page cache is a quarter of SQLite's default: with
	// four connections to each of the shop's databases, the default would
	// let page caches alone take much of the shop's memory target; a page
	// not cached is read from the kernel's file cache, not the disk.
	q.Add("_pragma", "cache_size(-512)")
	q.Set("_txlock", "immediate") // no lock upgrades, so no SQLITE_BUSY deadlocks between writers
	db := otelsql.OpenDB(connector{dsn: "file:" + path + "?" + q.Encode(), d: &sqlite.Driver{}}, traced(filepath.Base(path))...)
	// Four connections: writes take turns anyway (InTx groups them), and
	// four readers keep the two cores the shop targets busy.
	db.SetMaxOpenConns(4)
	// Keep them: database/sql keeps 2 idle by default and closes the rest,
	// and a new connection costs its file opens, a schema read, its prepared
	// statements and an fsync of the directory at its first commit.
	db.SetMaxIdleConns(4)
	if _, err := db.ExecContext(ctx, schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate %s: %w", path, err)
	}
	name(db, strings.TrimSuffix(filepath.Base(path), ".db"))
	return db, nil
}

// traced is how a database's calls become spans, as the semantic
// conventions name them: one per statement, "SELECT orders", with its
// operation and table (db.operation.name, db.collection.name) and the SQL
// (never its arguments), and one per transaction's BEGIN, COMMIT or
// ROLLBACK; only within a trace that is already running and recorded: a
// relay's or consumer's poll of an idle queue starts none, and a trace the
// sampler left out costs its statements nothing.
func traced(name string) []otelsql.Option {
	return []otelsql.Option{
		otelsql.WithAttributes(semconv.DBSystemNameSQLite, semconv.DBNamespace(name)),
		otelsql.WithSpanNameFormatter(func(_ context.Context, method otelsql.Method, query string) string {
			return summaryOf(method, query).name
		}),
		otelsql.WithAttributesGetter(func(_ context.Context, method otelsql.Method, query string, _ []driver.NamedValue) []attribute.KeyValue {
			return summaryOf(method, query).attrs
		}),
		otelsql.WithSpanOptions(otelsql.SpanOptions{
			OmitConnResetSession: true,
			OmitConnectorConnect: true,
			OmitRows:             true,
			OmitConnPrepare:      true,
			DisableErrSkip:       true,
			SpanFilter: func(ctx context.Context, _ otelsql.Method, _ string, _ []driver.NamedValue) bool {
				return trace.SpanFromContext(ctx).SpanContext().IsSampled()
			},
		}),
		// Metrics stay those of the services and the bus.
		otelsql.WithMeterProvider(noop.NewMeterProvider()),
	}
}

// summaryOf is the name and attributes of a call to the database: its SQL's,
// or the transaction's step.
func summaryOf(method otelsql.Method, query string) summary {
	switch method {
	case otelsql.MethodConnBeginTx:
		return begin
	case otelsql.MethodTxCommit:
		return commit
	case otelsql.MethodTxRollback:
		return rollback
	}
	return summarized(query)
}

var (
	begin    = statement{operation: "BEGIN"}.summary()
	commit   = statement{operation: "COMMIT"}.summary()
	rollback = statement{operation: "ROLLBACK"}.summary()
)

// Fill creates the database at path with schema and runs row for each i
// from 0 to n-1, all in one transaction: a big database made fast, for load
// tests and benchmarks, where writing it through a store would wait for a
// commit per row.
func Fill(ctx context.Context, path, schema string, n int, row func(tx *sql.Tx, i int) error) error {
	db, err := Open(ctx, path, schema)
	if err != nil {
		return err
	}
	err = InTx(ctx, db, func(tx *sql.Tx) error {
		for i := range n {
			if err := row(tx, i); err != nil {
				return err
			}
		}
		return nil
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	return err
}

// Scanner is a row to scan.
type Scanner interface{ Scan(dest ...any) error }

// Page reads one page: query must end in "limit ?", which Page fills with one
// more than req.Limit to learn whether another page follows; scan reads a row
// and key gives the position a token for the next page encodes.
func Page[T any](ctx context.Context, db *sql.DB, req page.Request, query string, args []any, scan func(Scanner) (T, error), key func(T) any) (page.Of[T], error) {
	rows, err := db.QueryContext(ctx, query, append(args, req.Limit+1)...)
	if err != nil {
		return page.Of[T]{}, err
	}
	defer rows.Close()
	out := page.Of[T]{Items: []T{}}
	for rows.Next() {
		item, err := scan(rows)
		if err != nil {
			return page.Of[T]{}, err
		}
		out.Items = append(out.Items, item)
	}
	if err := rows.Err(); err != nil {
		return page.Of[T]{}, err
	}
	if len(out.Items) > req.Limit {
		out.Items = out.Items[:req.Limit]
		out.NextToken = page.Encode(key(out.Items[req.Limit-1]))
	}
	return out, nil
}
