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
