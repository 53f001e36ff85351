// Command cognito-pre-signup is the user pool's pre-sign-up trigger: it
// refuses user names the API would refuse.
package main

import (
	"github.com/eventshop/eventshop/cmd/lambda/internal/lambdaenv"
	"github.com/eventshop/eventshop/internal/auth/cognito"
	"github.com/eventshop/eventshop/internal/awsenv"
)

func main() {
	lambdaenv.Init(awsenv.CognitoPreSignUp)
	lambdaenv.Start(cognito.PreSignUp)
}
