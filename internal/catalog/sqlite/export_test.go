package sqlite

// Forget drops what the store keeps in memory, as a write does: a benchmark
// of what reads cost the database calls it before each read.
func (s *Store) Forget() { s.forget() }
