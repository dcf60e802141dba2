package kafka

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ternmq/tern/internal/broker"
)

// AlterUserScramCredentials, version 0 (KIP-554).
//
// Deletions remove one mechanism's credential of a user; upsertions set
// one from the password the client salted (salt, iterations and
// SaltedPassword: the broker derives StoredKey and ServerKey and keeps
// no password). All accepted changes are written together. Per user:
// an empty name UNACCEPTABLE_CREDENTIAL; a mechanism other than
// SCRAM-SHA-256/512 UNSUPPORTED_SASL_MECHANISM; iterations outside
// 4096..16384 UNACCEPTABLE_CREDENTIAL; deleting a credential that does
// not exist RESOURCE_NOT_FOUND; a user named twice in the request
// DUPLICATE_RESOURCE for both changes. An upsertion for a new user
// creates it in the shared user store, with no tags and no AMQP vhost
// permissions; deleting its last credential leaves it without a password.
//
// Ignored: nothing. Kafka answers in no particular order; Tern answers
// in request order.
func (c *conn) handleAlterUserSCRAMCredentials(r *request) {
	req := r.kreq.(*kmsg.AlterUserSCRAMCredentialsRequest)
	resp := req.ResponseKind().(*kmsg.AlterUserSCRAMCredentialsResponse)
	// ALTER on the cluster (mayManageUsers); without it every user is
	// refused.
	denied := !c.mayManageUsers(opAlter)
	var dels []broker.ScramDeletion
	var ups []broker.ScramUpsertion
	var order []string
	seen := map[string]bool{}
	note := func(user string) {
		if !seen[user] {
			seen[user] = true
			order = append(order, user)
		}
	}
	for _, d := range req.Deletions {
		dels = append(dels, broker.ScramDeletion{User: d.Name, Mechanism: scramMechanismName(d.Mechanism)})
		note(d.Name)
	}
	for _, u := range req.Upsertions {
		ups = append(ups, broker.ScramUpsertion{
			User: u.Name, Mechanism: scramMechanismName(u.Mechanism), Iterations: int(u.Iterations),
			Salt: u.Salt, SaltedPassword: u.SaltedPassword,
		})
		note(u.Name)
	}
	if denied {
		for _, user := range order {
			res := kmsg.NewAlterUserSCRAMCredentialsResponseResult()
			res.User, res.ErrorCode = user, kerr.ClusterAuthorizationFailed.Code
			res.ErrorMessage = authzMessage(res.ErrorCode)
			resp.Results = append(resp.Results, res)
		}
		r.respond(resp)
		return
	}
	c.goAsync(r, func() {
		results, err := c.s.broker.AlterScramCredentials(c.ctx, dels, ups)
		for _, user := range order {
			res := kmsg.NewAlterUserSCRAMCredentialsResponseResult()
			res.User = user
			e := err
			if e == nil {
				e = results[user]
			}
			res.ErrorCode, res.ErrorMessage = errCode(e), errMessage(e)
			resp.Results = append(resp.Results, res)
		}
		r.respond(resp)
	})
}
