package localbus

// Waiting reports whether queue's consumer waits for work, and so would be
// handed what is published next.
func Waiting(b *Bus, queue string) bool { return b.queues[queue].waiting.Load() != nil }

// BeforePublishTx makes every publish of b run f once its consumers ran what
// they were handed (or it stopped waiting) and before its transaction.
func BeforePublishTx(b *Bus, f func()) { b.beforeTx = f }
