// Package netif is hanet's mechanism for links, addresses, routes and link
// events, over vishvananda/netlink. It runs no external command and never
// imports pkg/ocf: it returns wrapped errors and leaves policy (what
// "running" means, which failure maps to which exit code) to the agents.
//
// A Handle speaks only NETLINK_ROUTE, the one family every kernel has (the
// qemu guest lacks XFRM and NETFILTER netlink). Every dump retries a few times
// on netlink.ErrDumpInterrupted instead of trusting partial data. Importing
// the package sets nl.EnableErrorMessageReporting, so kernel errors carry
// their extended-ack text.
//
// Subscriptions (SubscribeLinks, WaitOperUp, WaitDAD) treat events as hints:
// they re-read state from the kernel before deciding anything, and resubscribe
// when the kernel drops the socket (ENOBUFS).
//
// Sentinels callers branch on: ErrInvalidName, ErrLinkNotFound,
// ErrAddrNotFound, ErrNoRoute, ErrDADFailed.
package netif
