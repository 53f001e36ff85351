// Package cognito holds the user pool's triggers: checks Cognito runs before
// it accepts a user, so that every user it signs in is one the API accepts.
package cognito

import (
	"context"
	"fmt"

	awsevents "github.com/aws/aws-lambda-go/events"

	"github.com/eventshop/eventshop/internal/validation"
)

// PreSignUp refuses a user name the API would refuse: Cognito allows up to
// 128 characters of almost any kind ("José", spaces, 65 characters), which
// would pass the authorizer and then fail every call that names the user.
// Cognito shows the returned error's message to the one signing up.
func PreSignUp(_ context.Context, ev awsevents.CognitoEventUserPoolsPreSignup) (awsevents.CognitoEventUserPoolsPreSignup, error) {
	if err := validation.UserName("username", ev.UserName); err != nil {
		return ev, Refusal{fmt.Sprintf("the user name %q cannot be used: 1 to 64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit", ev.UserName)}
	}
	return ev, nil
}

// Refusal is PreSignUp's answer to a name it refuses: the trigger working
// as designed, which a deployment's canary does not count as a failure
// (canary.Expected).
type Refusal struct{ msg string }

func (r Refusal) Error() string { return r.msg }

// Expected says that a refusal is no fault of the trigger.
func (Refusal) Expected() bool { return true }
