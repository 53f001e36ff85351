package sqlitedb

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"weak"
)

// InTx runs fn in a write transaction and returns once its writes are
// committed (and, with synchronous=FULL, on disk), or with fn's error and
// none of its writes.
//
// Writers to one database commit as a group: a write that arrives while
// another group commits waits for it, then commits with every write that
// arrived meanwhile, in one transaction, each in a savepoint of its own so
// that one failing undoes only its own writes. A lone write in a quiet
// database commits alone, at once; while the database is busy (its last
// group held more than busyGroup writes), the writer that leads a group first
// waits CommitDelay for others to join it, as PostgreSQL's commit_delay
// does. So a database with many writers at once (the bus, a busy store)
// pays one fsync for many writes instead of one each, with no write
// acknowledged before it is durable; writes of one group run in the order
// they arrived, and see the writes before them as if committed one by one.
//
// The first writer of a group runs it on its own goroutine (no background
// goroutine, nothing to stop); a panic in fn is raised again in its caller's.
// fn must not start another write on the same database: it would wait for
// its own group.
func InTx(ctx context.Context, db *sql.DB, fn func(*sql.Tx) error) error {
	g := groupOf(db)
	w := &write{ctx: ctx, fn: fn, done: make(chan outcome, 1)}
	g.mu.Lock()
	g.waiting = append(g.waiting, w)
	if g.leading {
		g.mu.Unlock()
		if o := <-w.done; !o.lead {
			return o.result()
		}
	} else {
		g.leading = true
		g.mu.Unlock()
	}
	// This writer leads: it commits everything waiting, itself included,
	// then hands the lead to the first writer that arrived meanwhile.
	if g.busy.Load() {
		g.delay(CommitDelay)
	}
	g.mu.Lock()
	batch := g.waiting
	g.waiting = nil
	g.mu.Unlock()
	g.busy.Store(len(batch) > busyGroup)
	own := g.commit(ctx, db, batch, w)
	g.mu.Lock()
	if len(g.waiting) > 0 {
		g.waiting[0].done <- outcome{lead: true}
	} else {
		g.leading = false
	}
	g.mu.Unlock()
	return own.result()
}

// busyGroup is how many writes a group gathers, at most, in a database not
// yet busy: two writes meeting (a request's and a relay's) are common in a
// quiet shop, more are a load.
const busyGroup = 2

// CommitDelay is how long the leader of a group waits for more writes
// while its database is busy: long enough for a busy shop's writers (its
// requests, its consumers' flows) to join one commit, short beside what a
// request or a message takes under that load. A quiet database never waits.
const CommitDelay = time.Millisecond

// group is one database's writers waiting to commit.
type group struct {
	mu      sync.Mutex
	leading bool // a writer is committing a group now
	waiting []*write
	busy    atomic.Bool         // the last group held more than one write
	delay   func(time.Duration) // time.Sleep; a test's own
	commits atomic.Int64
	named   atomic.Pointer[atomic.Int64] // the count of its name's commits, once Open names it
}

// Commits counts the transactions InTx has committed on db: what a test or
// a benchmark compares with the writes it made.
func Commits(db *sql.DB) int64 { return groupOf(db).commits.Load() }

// byName counts the commits of the databases Open opened, by name: name →
// *atomic.Int64, which only grows.
var byName sync.Map

// CommitsByDatabase counts the transactions InTx has committed on the
// databases Open opened in this process, by name ("basket" for basket.db;
// databases of one name are summed, closed ones too). With synchronous=FULL
// in WAL mode, each commit is one fsync of the database's write-ahead log
// (its checkpoints, every thousand pages or so, add a few more).
func CommitsByDatabase() map[string]int64 {
	out := map[string]int64{}
	byName.Range(func(k, v any) bool {
		out[k.(string)] = v.(*atomic.Int64).Load()
		return true
	})
	return out
}

// name counts db's commits under name too.
func name(db *sql.DB, name string) {
	c, _ := byName.LoadOrStore(name, new(atomic.Int64))
	groupOf(db).named.Store(c.(*atomic.Int64))
}

type write struct {
	ctx  context.Context
	fn   func(*sql.Tx) error
	done chan outcome
}

// outcome is a write's result, or its turn to lead the next group.
type outcome struct {
	err      error
	panicked any
	lead     bool
}

func (o outcome) ok() bool { return o.err == nil && o.panicked == nil }

func (o outcome) result() error {
	if o.panicked != nil {
		panic(o.panicked)
	}
	return o.err
}

var groups sync.Map // weak.Pointer[sql.DB] → *group

func groupOf(db *sql.DB) *group {
	key := weak.Make(db)
	if g, ok := groups.Load(key); ok {
		return g.(*group)
	}
	g, loaded := groups.LoadOrStore(key, &group{delay: time.Sleep})
	if !loaded {
		runtime.AddCleanup(db, func(k weak.Pointer[sql.DB]) { groups.Delete(k) }, key)
	}
	return g.(*group)
}

// commit runs batch in one transaction, begun under the leader's context
// (its trace holds the begin and commit), tells every other write its
// outcome and returns the leader's.
func (g *group) commit(ctx context.Context, db *sql.DB, batch []*write, leader *write) outcome {
	outcomes := make([]outcome, len(batch))
	tx, err := db.BeginTx(context.WithoutCancel(ctx), nil)
	if err != nil {
		for i := range outcomes {
			outcomes[i].err = fmt.Errorf("begin: %w", err)
		}
	} else {
		alone := len(batch) == 1
		succeeded := 0
		for i, w := range batch {
			outcomes[i] = run(tx, w, alone)
			if outcomes[i].ok() {
				succeeded++
			}
		}
		if succeeded == 0 {
			_ = tx.Rollback()
		} else if err := tx.Commit(); err != nil {
			for i := range outcomes {
				if outcomes[i].ok() {
					outcomes[i].err = fmt.Errorf("commit: %w", err)
				}
			}
		} else {
			g.commits.Add(1)
			if c := g.named.Load(); c != nil {
				c.Add(1)
			}
		}
	}
	var own outcome
	for i, w := range batch {
		if w == leader {
			own = outcomes[i]
		} else {
			w.done <- outcomes[i]
		}
	}
	return own
}

// run runs w's fn in tx, in a savepoint unless it is alone in the
// transaction, and undoes its writes if it fails.
func run(tx *sql.Tx, w *write, alone bool) (o outcome) {
	if err := w.ctx.Err(); err != nil {
		return outcome{err: err}
	}
	if !alone {
		if _, err := tx.ExecContext(w.ctx, "savepoint write"); err != nil {
			return outcome{err: fmt.Errorf("savepoint: %w", err)}
		}
	}
	defer func() {
		if p := recover(); p != nil {
			o = outcome{panicked: p}
		}
		if alone {
			return
		}
		if !o.ok() {
			if _, err := tx.ExecContext(context.WithoutCancel(w.ctx), "rollback to write"); err != nil && o.err != nil {
				o.err = fmt.Errorf("%w; and undoing it: %w", o.err, err)
			}
		}
		if _, err := tx.ExecContext(context.WithoutCancel(w.ctx), "release write"); err != nil && o.ok() {
			o.err = fmt.Errorf("release savepoint: %w", err)
		}
	}()
	return outcome{err: w.fn(tx)}
}

// Exec runs one write statement through InTx, so that it commits in a group.
func Exec(ctx context.Context, db *sql.DB, query string, args ...any) (sql.Result, error) {
	var res sql.Result
	err := InTx(ctx, db, func(tx *sql.Tx) error {
		var err error
		res, err = tx.ExecContext(ctx, query, args...)
		return err
	})
	return res, err
}
