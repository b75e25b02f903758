/*
 * spot/net.h: spot nodes on a network.
 *
 * A node serves its namespace over ZeroMQ with CURVE: every connection is encrypted and each client is known by
 * its public key. What a key may do in a namespace is written in the namespace's access file, DIR/access, one line
 * per key: `PUBLIC_KEY RIGHTS [# comment]`, RIGHTS a comma list of get, put, create and deploy, and the word `any`
 * in place of a key for rights given to every client. Key pairs are made with `spot keygen NAME`.
 *
 * This header holds only the rights for now; the transport (remote spot://host:port/namespace/log names, spotd
 * --listen, remote deploy) is to come and will be declared here.
 */
#ifndef SPOT_NET_H
#define SPOT_NET_H

#ifdef __cplusplus
extern "C" {
#endif

/* Rights a key can hold in a namespace's access file, as bit flags (a check for several needs all of them). */
#define SPOT_RIGHT_GET 0x1u    /* read: get, latest, earliest, log info, event-log reads */
#define SPOT_RIGHT_PUT 0x2u    /* append to existing logs (and so trigger their handlers) */
#define SPOT_RIGHT_CREATE 0x4u /* create logs */
#define SPOT_RIGHT_DEPLOY 0x8u /* install or replace handlers on the running node */
#define SPOT_RIGHT_ALL 0xfu

#ifdef __cplusplus
}
#endif
#endif
