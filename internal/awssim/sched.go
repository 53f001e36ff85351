package awssim

import (
	"context"
	"fmt"
	"sync"
)

// sched runs the run's invocations side by side and still replays a seed
// exactly. Each invocation, and each flow of a consumer's batch, is a task:
// a goroutine that parks at every call it makes to DynamoDB or EventBridge
// (a point, before the call touches anything of the run's) and at every
// attempt it makes again. Only when no task runs, each parked or done, does
// the run go on: it starts a new invocation or lets one parked call go, as
// the seed picks. So what two invocations do interleaves at their calls,
// in an order the seed alone decides, and the run's state (its random
// numbers, queues, streams and trace) is touched by one task at a time.
type sched struct {
	mu     sync.Mutex
	idle   *sync.Cond // signalled when running drops to 0
	run    int        // tasks running: neither parked nor waiting for their flows
	parked []*point
}

// task is one invocation or one flow of a batch; its id orders the parked
// calls the same way in every run of a seed.
type task struct {
	id     string
	parent *task         // the invocation whose flow it is, if it is one
	kids   int           // flows not yet done
	resume chan struct{} // closed when the last flow is done
}

// point is a task parked before a call: label says which, for the trace.
type point struct {
	task  *task
	label string
	goOn  chan struct{}
}

func newSched() *sched {
	s := &sched{}
	s.idle = sync.NewCond(&s.mu)
	return s
}

type taskKey struct{}

func taskOf(ctx context.Context) *task {
	t, _ := ctx.Value(taskKey{}).(*task)
	return t
}

// start runs f as a new task named id, with ctx carrying it.
func (s *sched) start(ctx context.Context, id string, f func(ctx context.Context)) {
	t := &task{id: id}
	s.mu.Lock()
	s.run++
	s.mu.Unlock()
	go func() {
		defer s.done(t)
		f(context.WithValue(ctx, taskKey{}, t))
	}()
}

func (s *sched) done(t *task) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.run--
	if parent := t.parent; parent != nil {
		parent.kids--
		if parent.kids == 0 {
			s.run++ // the parent runs again, in the same breath: nothing slips in between
			close(parent.resume)
		}
	}
	if s.run == 0 {
		s.idle.Broadcast()
	}
}

// flows runs fs as tasks of ctx's task, side by side, each with a context
// of its own, and returns once all are done; the caller does not run
// meanwhile. Outside a task (the run's own calls) it runs them in turn.
func (s *sched) flows(ctx context.Context, fs []func(context.Context)) {
	parent := taskOf(ctx)
	if parent == nil || len(fs) == 0 {
		for _, f := range fs {
			f(ctx)
		}
		return
	}
	parent.resume = make(chan struct{})
	parent.kids = len(fs)
	s.mu.Lock()
	s.run += len(fs) - 1 // the flows run; the parent waits, and its last flow hands it the turn back
	if s.run == 0 {
		s.idle.Broadcast()
	}
	s.mu.Unlock()
	for i, f := range fs {
		kid := &task{id: fmt.Sprintf("%s.%03d", parent.id, i), parent: parent}
		go func() {
			defer s.done(kid)
			f(context.WithValue(ctx, taskKey{}, kid))
		}()
	}
	<-parent.resume
}

// park parks ctx's task before a call until the run lets it go on; outside
// a task (the run's own calls) it returns at once.
func (s *sched) park(ctx context.Context, label string) {
	t := taskOf(ctx)
	if t == nil {
		return
	}
	p := &point{task: t, label: label, goOn: make(chan struct{})}
	s.mu.Lock()
	s.parked = append(s.parked, p)
	s.run--
	if s.run == 0 {
		s.idle.Broadcast()
	}
	s.mu.Unlock()
	<-p.goOn
}

// quiet waits until no task runs, and returns the parked calls, ordered
// by their tasks' ids (and, within a task, by when they parked).
func (s *sched) quiet() []*point {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.run > 0 {
		s.idle.Wait()
	}
	out := make([]*point, len(s.parked))
	copy(out, s.parked)
	sortPoints(out)
	return out
}

// goOn lets p's call go on, and waits until no task runs again.
func (s *sched) goOn(p *point) {
	s.mu.Lock()
	for i, x := range s.parked {
		if x == p {
			s.parked = append(s.parked[:i], s.parked[i+1:]...)
			break
		}
	}
	s.run++
	s.mu.Unlock()
	close(p.goOn)
}

func sortPoints(ps []*point) {
	// Insertion sort by task id: stable, and the lists are short.
	for i := 1; i < len(ps); i++ {
		for j := i; j > 0 && ps[j].task.id < ps[j-1].task.id; j-- {
			ps[j], ps[j-1] = ps[j-1], ps[j]
		}
	}
}
