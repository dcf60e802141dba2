package kafka

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DescribeUserScramCredentials, version 0 (KIP-554).
//
// Lists each user's SCRAM mechanisms and iteration counts, never salts or
// keys. No users (null or empty) means every user that has a SCRAM
// credential. A named user without one answers RESOURCE_NOT_FOUND; a
// user named twice answers DUPLICATE_RESOURCE once. Users come from the
// one user store (AMQP, the admin API and Kafka share it).
func (c *conn) handleDescribeUserSCRAMCredentials(r *request) {
	req := r.kreq.(*kmsg.DescribeUserSCRAMCredentialsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeUserSCRAMCredentialsResponse)
	// DESCRIBE on the cluster (mayManageUsers), else the whole request
	// is refused.
	if !c.mayManageUsers(opDescribe) {
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
		resp.ErrorMessage = authzMessage(resp.ErrorCode)
		r.respond(resp)
		return
	}
	b := c.s.broker
	var names []string
	dup := map[string]bool{}
	if len(req.Users) == 0 {
		names = b.ScramUsers()
	} else {
		for _, u := range req.Users {
			if _, seen := dup[u.Name]; seen {
				dup[u.Name] = true
				continue
			}
			dup[u.Name] = false
			names = append(names, u.Name)
		}
	}
	for _, name := range names {
		res := kmsg.NewDescribeUserSCRAMCredentialsResponseResult()
		res.User = name
		infos := b.ScramCredentialInfos(name)
		switch {
		case dup[name]:
			res.ErrorCode = kerr.DuplicateResource.Code
			res.ErrorMessage = errMessage(fmt.Errorf("Cannot describe SCRAM credentials for the same user twice in a single request: %s", name))
		case len(infos) == 0:
			res.ErrorCode = kerr.ResourceNotFound.Code
			res.ErrorMessage = errMessage(fmt.Errorf("Attempt to describe a user credential that does not exist: %s", name))
		}
		if res.ErrorCode == 0 {
			for _, in := range infos {
				ci := kmsg.NewDescribeUserSCRAMCredentialsResponseResultCredentialInfo()
				ci.Mechanism, ci.Iterations = scramMechanismType(in.Mechanism), int32(in.Iterations)
				res.CredentialInfos = append(res.CredentialInfos, ci)
			}
		}
		resp.Results = append(resp.Results, res)
	}
	r.respond(resp)
}

// scramMechanismType is a SCRAM mechanism's wire number (Kafka's
// ScramMechanism: 1 SCRAM-SHA-256, 2 SCRAM-SHA-512; 0 unknown).
func scramMechanismType(name string) int8 {
	switch name {
	case "SCRAM-SHA-256":
		return 1
	case "SCRAM-SHA-512":
		return 2
	}
	return 0
}

// scramMechanismName is the inverse of scramMechanismType; an unknown
// number gets a name no mechanism has, which the core refuses.
func scramMechanismName(t int8) string {
	switch t {
	case 1:
		return "SCRAM-SHA-256"
	case 2:
		return "SCRAM-SHA-512"
	}
	return fmt.Sprintf("UNKNOWN(%d)", t)
}
