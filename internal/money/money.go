// Package money holds exact amounts of money as integer cents and converts them
// to and from the two-decimal JSON numbers the API speaks.
package money

import (
	"errors"
	"strconv"
	"strings"
)

// Cents is an amount of money in hundredths of the currency unit.
type Cents int64

// MaxPrice is the largest unit price the shop accepts: 1,000,000.00.
const MaxPrice Cents = 1_000_000_00

// ErrFormat reports a number that is not a plain decimal with at most two places.
var ErrFormat = errors.New("must be a decimal number with at most two decimal places")

// Parse reads a JSON number literal such as "19.99", "20" or "0.5" without
// going through a float. Exponents and more than two decimals are rejected.
func Parse(s string) (Cents, error) {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" || !digits(whole) || (hasDot && (frac == "" || len(frac) > 2 || !digits(frac))) {
		return 0, ErrFormat
	}
	if len(whole) > 15 {
		return 0, errors.New("is too large")
	}
	for len(frac) < 2 {
		frac += "0"
	}
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		return 0, ErrFormat
	}
	if neg {
		n = -n
	}
	return Cents(n), nil
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// String formats c as a decimal with two places, such as "59.97".
func (c Cents) String() string {
	sign := ""
	n := int64(c)
	if n < 0 {
		sign, n = "-", -n
	}
	return sign + strconv.FormatInt(n/100, 10) + "." + leftPad(strconv.FormatInt(n%100, 10))
}

func leftPad(s string) string {
	if len(s) == 1 {
		return "0" + s
	}
	return s
}

// MarshalJSON writes c as a JSON number with two decimals (19.99, 20.00).
func (c Cents) MarshalJSON() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalJSON reads a JSON number with at most two decimals.
func (c *Cents) UnmarshalJSON(b []byte) error {
	v, err := Parse(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// Times multiplies a unit price by a quantity.
func (c Cents) Times(quantity int) Cents { return c * Cents(quantity) }
