package cognito

import (
	"strings"
	"testing"

	awsevents "github.com/aws/aws-lambda-go/events"
)

func TestPreSignUp(t *testing.T) {
	for name, ok := range map[string]bool{
		"alice": true, "ada.lovelace@example.com": true, "a": true, strings.Repeat("a", 64): true,
		"José": false, "ada lovelace": false, strings.Repeat("a", 65): false, ".alice": false, "": false, "alice\u202e": false,
	} {
		var ev awsevents.CognitoEventUserPoolsPreSignup
		ev.UserName = name
		got, err := PreSignUp(t.Context(), ev)
		if (err == nil) != ok {
			t.Errorf("%q: %v, want accepted = %v", name, err, ok)
		}
		if got.UserName != name {
			t.Errorf("%q: the event came back changed", name)
		}
	}
}
