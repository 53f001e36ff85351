package localbus

// Waiting reports whether queue's consumer waits for work, and so would be
// handed what is published next.
func Waiting(b *Bus, queue string) bool { return b.queues[queue].waiting.Load() != nil }

// BeforePublishTx makes every publish of b run f once its consumers ran what
// they were handed (or it stopped waiting) and before its transaction.
func BeforePublishTx(b *Bus, f func()) { b.beforeTx = f }

// SettlingOwn makes every consumer of b that is to settle a handed batch
// itself run f before it waits for the batch's publisher.
func SettlingOwn(b *Bus, f func()) { b.settlingOwn = f }

// Defaults is o with its zero fields set to their defaults.
func Defaults(o Options) Options { return o.withDefaults() }

// FailureRows counts the failure reasons the bus keeps (of messages that
// failed and of dead letters).
func FailureRows(b *Bus) int {
	var n int
	if err := b.db.QueryRow(`select count(*) from goqite_errors`).Scan(&n); err != nil {
		panic(err)
	}
	return n
}
