// Package group is Tern's classic Kafka consumer-group coordinator
// (JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch,
// OffsetDelete, DeleteGroups, DescribeGroups, ListGroups).
package group
