package sqlitedb_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/eventshop/eventshop/internal/sqlitedb"
)

// The same query text runs again and again on its connection's cached
// statement, with fresh arguments each time; within a transaction (one
// connection), a query whose statement is still reading (its rows open) runs
// unprepared beside it, and the transaction sees its own writes.
func TestStatementsAreReused(t *testing.T) {
	ctx := context.Background()
	db, err := sqlitedb.Open(ctx, filepath.Join(t.TempDir(), "t.db"), `create table if not exists t (n integer primary key, s text not null)`)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i := range 100 {
		if _, err := db.ExecContext(ctx, `insert into t (n, s) values (?, ?)`, i, "v"); err != nil {
			t.Fatal(err)
		}
	}
	const byN = `select s from t where n = ?`
	for i := range 100 {
		var s string
		if err := db.QueryRowContext(ctx, byN, i).Scan(&s); err != nil || s != "v" {
			t.Fatalf("row %d: %q, %v", i, s, err)
		}
	}
	err = sqlitedb.InTx(ctx, db, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `select n from t order by n`)
		if err != nil {
			return err
		}
		seen := 0
		for rows.Next() {
			var n int
			if err := rows.Scan(&n); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `update t set s = ? where n = ?`, "w", n); err != nil {
				return err
			}
			var s string
			if err := tx.QueryRowContext(ctx, byN, n).Scan(&s); err != nil || s != "w" {
				t.Fatalf("row %d in the transaction: %q, %v", n, s, err)
			}
			seen++
		}
		if err := rows.Close(); err != nil || seen != 100 {
			t.Fatalf("read %d rows, %v", seen, err)
		}
		// The same text as a still-open query: the second runs unprepared.
		outer, err := tx.QueryContext(ctx, byN, 1)
		if err != nil {
			return err
		}
		defer outer.Close()
		var s string
		if err := tx.QueryRowContext(ctx, byN, 2).Scan(&s); err != nil || s != "w" {
			t.Fatalf("the same query while its statement reads: %q, %v", s, err)
		}
		if !outer.Next() {
			t.Fatal("the open query lost its row")
		}
		return outer.Scan(&s)
	})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRowContext(ctx, `select count(*) from t where s = 'w'`).Scan(&n); err != nil || n != 100 {
		t.Fatalf("%d rows updated, %v", n, err)
	}
}
