package sqlitedb

import (
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/eventshop/eventshop/internal/waittest"
)

func openT(t *testing.T) *sql.DB {
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "t.db"), `create table if not exists t (n integer primary key)`)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func insert(n int) func(*sql.Tx) error {
	return func(tx *sql.Tx) error {
		_, err := tx.Exec(`insert into t (n) values (?)`, n)
		return err
	}
}

func stored(t *testing.T, db *sql.DB) []int {
	rows, err := db.Query(`select n from t order by n`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var n int
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

// holdLead starts a write that leads a group and stays in it until the
// returned release is called, so that the writes started meanwhile queue as
// the next group.
func holdLead(t *testing.T, db *sql.DB) (release func() error) {
	inside, hold, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- InTx(t.Context(), db, func(tx *sql.Tx) error {
			close(inside)
			<-hold
			return insert(0)(tx)
		})
	}()
	<-inside
	return func() error { close(hold); return <-done }
}

// waitQueued waits until n writes wait for db's next group.
func waitQueued(t *testing.T, db *sql.DB, n int) {
	g := groupOf(db)
	waittest.For(t, fmt.Sprintf("%d queued writes", n), func() bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		return len(g.waiting) == n
	})
}

// Writes that arrive while a group commits commit together, in one
// transaction, and each call returns once its write is committed.
func TestWritesArrivingTogetherShareACommit(t *testing.T) {
	db := openT(t)
	release := holdLead(t, db)
	before := Commits(db)
	var wg sync.WaitGroup
	errs := make([]error, 5)
	for i := range errs {
		wg.Go(func() {
			errs[i] = InTx(t.Context(), db, insert(i+1))
			if errs[i] == nil && !slices.Contains(stored(t, db), i+1) {
				errs[i] = fmt.Errorf("write %d returned before its row was readable", i+1)
			}
		})
	}
	waitQueued(t, db, 5)
	if err := release(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if n := Commits(db) - before; n != 2 {
		t.Fatalf("%d commits for the held write and the five behind it, want 2", n)
	}
	if got := stored(t, db); !slices.Equal(got, []int{0, 1, 2, 3, 4, 5}) {
		t.Fatalf("rows %v", got)
	}
	g := groupOf(db)
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.leading || len(g.waiting) > 0 {
		t.Fatalf("after the groups: leading %v, %d waiting", g.leading, len(g.waiting))
	}
}

// In a group, a write that fails or panics undoes only its own writes; the
// panic is raised in its own caller, and the others commit.
func TestAFailingWriteUndoesOnlyItself(t *testing.T) {
	db := openT(t)
	release := holdLead(t, db)
	results := make(chan string, 4)
	run := func(name string, fn func(*sql.Tx) error) {
		defer func() {
			if p := recover(); p != nil {
				results <- fmt.Sprintf("%s panicked: %v", name, p)
			}
		}()
		err := InTx(t.Context(), db, fn)
		results <- fmt.Sprintf("%s: %v", name, err)
	}
	go run("ok1", insert(1))
	waitQueued(t, db, 1)
	go run("fails", func(tx *sql.Tx) error {
		if err := insert(2)(tx); err != nil {
			return err
		}
		return errors.New("refused")
	})
	waitQueued(t, db, 2)
	go run("panics", func(tx *sql.Tx) error {
		if err := insert(3)(tx); err != nil {
			return err
		}
		panic("boom")
	})
	waitQueued(t, db, 3)
	go run("ok4", insert(4))
	waitQueued(t, db, 4)
	if err := release(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for range 4 {
		select {
		case r := <-results:
			got = append(got, r)
		case <-time.After(10 * time.Second):
			t.Fatalf("writes still waiting; results so far %v", got)
		}
	}
	slices.Sort(got)
	want := []string{"fails: refused", "ok1: <nil>", "ok4: <nil>", "panics panicked: boom"}
	if !slices.Equal(got, want) {
		t.Fatalf("results %q, want %q", got, want)
	}
	if rows := stored(t, db); !slices.Equal(rows, []int{0, 1, 4}) {
		t.Fatalf("rows %v, want 0, 1 and 4: the failed and panicked writes undone", rows)
	}
}

// Each database Open opened counts its commits under its name.
func TestCommitsByDatabase(t *testing.T) {
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "counted-by-name.db"), `create table t (n integer)`)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	before := CommitsByDatabase()["counted-by-name"]
	for i := range 3 {
		if _, err := Exec(t.Context(), db, `insert into t (n) values (?)`, i); err != nil {
			t.Fatal(err)
		}
	}
	if n := CommitsByDatabase()["counted-by-name"] - before; n != 3 {
		t.Fatalf("%d commits counted, want 3", n)
	}
}

// The leader of a group waits CommitDelay for more writes only while the
// database is busy: after a group of more than busyGroup writes, not after
// a lone one, and not in a quiet database.
func TestTheLeaderWaitsOnlyWhileTheDatabaseIsBusy(t *testing.T) {
	db := openT(t)
	g := groupOf(db)
	var waits []time.Duration
	g.mu.Lock()
	g.delay = func(d time.Duration) { waits = append(waits, d) } // only leaders call it, one at a time
	g.mu.Unlock()
	if err := InTx(t.Context(), db, insert(1)); err != nil {
		t.Fatal(err)
	}
	if len(waits) != 0 {
		t.Fatalf("a lone write in a quiet database waited %v", waits)
	}
	// A group of several writes: the database is busy.
	release := holdLead(t, db)
	var wg sync.WaitGroup
	for i := range busyGroup + 1 {
		wg.Go(func() {
			if err := InTx(t.Context(), db, insert(10+i)); err != nil {
				t.Error(err)
			}
		})
	}
	waitQueued(t, db, busyGroup+1)
	if err := release(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	waits = nil
	if err := InTx(t.Context(), db, insert(2)); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(waits, []time.Duration{CommitDelay}) {
		t.Fatalf("the first leader after a group of %d waited %v, want CommitDelay once", busyGroup+1, waits)
	}
	waits = nil
	if err := InTx(t.Context(), db, insert(3)); err != nil {
		t.Fatal(err)
	}
	if len(waits) != 0 {
		t.Fatalf("a lone write after a lone write waited %v", waits)
	}
}
