package sqlitedb

import "testing"

// A statement's span is named by its operation and its table, as the
// semantic conventions have it.
func TestSummarize(t *testing.T) {
	for query, want := range map[string]statement{
		"select body from orders where user_name = ?":                                      {"SELECT", "orders"},
		"SELECT g.id, g.body FROM goqite g LEFT JOIN goqite_errors e ON e.id = g.id":       {"SELECT", "goqite"},
		"select id from goqite where id in (select value from json_each(?))":               {"SELECT", "goqite"},
		"insert into orders (user_name, id) values (?, ?)":                                 {"INSERT", "orders"},
		"insert or replace into stock(product_id) values (?)":                              {"INSERT", "stock"},
		"update stock set available = ? where product_id = ?":                              {"UPDATE", "stock"},
		"update or ignore holds set n = 1":                                                 {"UPDATE", "holds"},
		"delete from goqite_errors where id = ?":                                           {"DELETE", "goqite_errors"},
		"with x as (select * from a) delete from archive where seq in (select seq from x)": {"DELETE", "archive"},
		"select count(*) from (select 1)":                                                  {"SELECT", ""},
		"select 'from t' as s":                                                             {"SELECT", ""},
		"pragma wal_checkpoint":                                                            {"PRAGMA", ""},
	} {
		if got := summarize(query); got != want {
			t.Errorf("%q: got %+v, want %+v", query, got, want)
		}
	}
	if got := (statement{"SELECT", "orders"}).name(); got != "SELECT orders" {
		t.Errorf("name %q", got)
	}
}
