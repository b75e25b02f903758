/*
 * route.c: the text of a bridge route ('LOG<-TOPIC[:HANDLER]', 'LOG->TOPIC') and of a cause carried in message
 * properties. Pure parsing, no I/O: everything that arrives here came from a command line or a broker.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge/bridge.h"
#include "core/error.h"
#include "core/name.h"

static int topic_check(const char *topic, spot_bridge_way_t way, const char *text) {
  if (topic[0] == '\0')
    return spot__fail(SPOT_EINVAL, "bridge '%s' has no topic: write LOG<-TOPIC[:HANDLER] or LOG->TOPIC", text);
  for (const char *p = topic; *p; p++) {
    if ((unsigned char)*p < 0x20)
      return spot__fail(SPOT_EINVAL, "bridge '%s': the topic has a control character", text);
    if (way == SPOT_BRIDGE_OUT && (*p == '+' || *p == '#'))
      return spot__fail(SPOT_EINVAL, "bridge '%s': a log publishes to one topic, without the wildcards + and #",
                        text);
  }
  return 0;
}

int spot_bridge_route_parse(const char *text, spot_bridge_route_t *out) {
  spot_bridge_route_t r;
  memset(&r, 0, sizeof r);
  if (text == NULL)
    return spot__fail(SPOT_EINVAL, "no bridge route given");
  const char *in = strstr(text, "<-"), *outp = strstr(text, "->");
  const char *arrow = in && (!outp || in < outp) ? in : outp;
  if (arrow == NULL)
    return spot__fail(SPOT_EINVAL, "bridge '%s' has no arrow: write LOG<-TOPIC[:HANDLER] (topic to log) or "
                                   "LOG->TOPIC (log to topic)", text);
  r.way = arrow == in ? SPOT_BRIDGE_IN : SPOT_BRIDGE_OUT;
  size_t loglen = (size_t)(arrow - text);
  if (loglen >= sizeof r.log)
    return spot__fail(SPOT_EBADNAME, "bridge '%s': the log name is longer than 63 characters", text);
  memcpy(r.log, text, loglen);
  int rc = spot__name_check(r.log, "log");
  if (rc != 0)
    return rc;
  const char *topic = arrow + 2;
  if (strlen(topic) >= sizeof r.topic)
    return spot__fail(SPOT_EINVAL, "bridge '%s': the topic is longer than %zu bytes", text, sizeof r.topic - 1);
  snprintf(r.topic, sizeof r.topic, "%s", topic);
  if (r.way == SPOT_BRIDGE_IN) {
    char *colon = strrchr(r.topic, ':');
    if (colon && colon[1] != '\0' && strlen(colon + 1) < sizeof r.handler &&
        spot__name_check(colon + 1, "handler") == 0) {
      snprintf(r.handler, sizeof r.handler, "%s", colon + 1);
      *colon = '\0';
    }
    spot__clear_detail();
  }
  if ((rc = topic_check(r.topic, r.way, text)) != 0)
    return rc;
  *out = r;
  return 0;
}

int spot_bridge_cause_parse(const char *node, const char *event, spot_cause_t *out) {
  if (node == NULL || event == NULL || node[0] == '\0' || event[0] == '\0' || strlen(node) > 16)
    return spot__fail(SPOT_EINVAL, "a cause is a node id (16 hex digits) and an event id (decimal)");
  char *end1, *end2;
  unsigned long long n = strtoull(node, &end1, 16), e = strtoull(event, &end2, 10);
  if (*end1 != '\0' || *end2 != '\0' || node[0] == '-' || node[0] == '+' || event[0] == '-' || event[0] == '+')
    return spot__fail(SPOT_EINVAL, "cause '%s' '%s' is not a node id (hex) and an event id (decimal)", node, event);
  out->node = n;
  out->event = e;
  return 0;
}

int spot_bridge_nats_url(const char *url, char *servers, size_t cap, char *stream, size_t stream_cap) {
  static const char scheme[] = "nats://";
  if (url == NULL || strncmp(url, scheme, sizeof scheme - 1) != 0)
    return spot__fail(SPOT_EINVAL, "'%s' is not a NATS url: write nats://HOST:PORT[,HOST:PORT...][/STREAM]",
                      url ? url : "");
  const char *hosts = url + sizeof scheme - 1, *slash = strchr(hosts, '/');
  size_t hlen = slash ? (size_t)(slash - hosts) : strlen(hosts);
  const char *st = slash ? slash + 1 : "";
  if (hlen == 0)
    return spot__fail(SPOT_EINVAL, "'%s' names no server: write nats://HOST:PORT[/STREAM]", url);
  if (strlen(st) >= stream_cap || strlen(st) > 64)
    return spot__fail(SPOT_EINVAL, "the stream name in '%s' is too long", url);
  for (const char *p = st; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
          *p == '-'))
      return spot__fail(SPOT_EINVAL, "stream name '%s' may only have letters, digits, '_' and '-'", st);
  size_t used = 0;
  const char *p = hosts;
  while (p < hosts + hlen) {
    const char *comma = memchr(p, ',', (size_t)(hosts + hlen - p));
    size_t n = comma ? (size_t)(comma - p) : (size_t)(hosts + hlen - p);
    if (n == 0 || memchr(p, ':', n) == NULL)
      return spot__fail(SPOT_EINVAL, "every server in '%s' needs HOST:PORT", url);
    int w = snprintf(servers + used, cap - used, "%s%s%.*s", used ? "," : "", scheme, (int)n, p);
    if (w < 0 || (size_t)w >= cap - used)
      return spot__fail(SPOT_EINVAL, "the server list of '%s' is too long", url);
    used += (size_t)w;
    p += n + (comma ? 1 : 0);
  }
  snprintf(stream, stream_cap, "%s", st);
  return 0;
}
