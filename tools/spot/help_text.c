/*
 * help_text.c: the text of spot's help, one page per verb of `spot`, one for spotd and one for the handler API
 * (help.h). This table is the only copy: --help, `spot help`, the man pages and the bash completion all read it,
 * and the help test checks that every verb of the command table has a page here.
 */
#include <stddef.h>
#include <string.h>

#include "help.h"

#define NS_OPT "-n DIR\tthe namespace (default $SPOT_DIR)\n"
#define KEY_OPTS                                                                                                   \
  "--key FILE\tthis client's key pair (default $SPOT_KEY), for remote names\n"                                     \
  "--node-key FILE|KEY\tthe node's public key (default $SPOT_NODE_KEY, else ~/.spot/known_nodes)\n"

static const spot_help_t pages[] = {
    {"init", "spot init [DIR]\n", "make a directory a namespace",
     "Makes DIR (or the -n / $SPOT_DIR namespace) a namespace: a directory that holds logs, the handler registry and "
     "the node's event log. DIR is created if it does not exist (its parent must); on a namespace already made it changes nothing.\n",
     NS_OPT, "spot init /tmp/home\nSPOT_DIR=/tmp/home spot init\n", NULL},
    {"create",
     "spot create LOG --size BYTES --history N [--sync none|batch|always] [--batch-us US] [--handler H]\n"
     "spot create spot://HOST:PORT/NS/LOG --size BYTES --history N [--sync ...]\n",
     "create a log",
     "Creates log LOG with a fixed element size and a fixed history: the newest N elements are kept, older ones "
     "expire. Sequence numbers start at 1 and never repeat. A remote name creates the log on that node (the create "
     "right).\n",
     "--size BYTES\telement size, 1 byte to 64M (suffixes K, M, G)\n"
     "--history N\thow many of the newest elements are kept (suffixes K, M, G)\n"
     "--sync MODE\tnone (page cache), batch (group commit) or always (a sync per put); default none\n"
     "--batch-us US\tbatch: the longest wait before a sync, in microseconds (default 2000)\n"
     "--handler H\tbind handler H to the new log (as spot bind): every put to it runs H; H must be registered, "
     "else nothing is created (local names only)\n" NS_OPT KEY_OPTS,
     "spot create temp --size 16 --history 1000 --sync batch\nspot create greetings --size 64 --history 100 "
     "--handler hello\n", NULL},
    {"put",
     "spot put LOG [--handler NAME] [--data STRING | --file PATH | - [--binary]]\n",
     "append one element to a log and print its sequence number",
     "Appends one element (shorter input is zero-padded to the element size; longer input is refused) and prints "
     "its sequence number. With --handler, a node serving the namespace runs handler NAME on the element, once; "
     "an unknown handler is refused at put time. Without it, the handler bound to LOG (spot bind) runs, if any.\n\n"
     "Input from stdin (-) is text: one trailing newline is dropped, so `echo 22.0 | spot put temp -` stores "
     "\"22.0\". --binary keeps every byte. LOG may be a remote name (the put right).\n",
     "--handler NAME\trun handler NAME on the new element (instead of the log's bound handler)\n"
     "--data STRING\tthe element's bytes\n"
     "--file PATH\tread the element from a file, byte for byte\n"
     "-\tread the element from stdin (text: one trailing newline dropped)\n"
     "--binary\twith -: keep a trailing newline\n" NS_OPT KEY_OPTS,
     "spot put temp --data 21.5\necho 22.0 | spot put temp -\nspot put greetings --handler hello --data world\n"
     "spot put spot://127.0.0.1:7401/cloud/readings --data 21.5\n",
     NULL},
    {"get", "spot get LOG SEQNO|latest\n", "write one element's bytes to stdout",
     "Writes element SEQNO of LOG (or the newest, with latest) to stdout, raw: all element-size bytes, zero padding "
     "included (spot tail --format text strips it). Fails if the element has expired or is not written yet. LOG "
     "may be a remote name (the get right).\n",
     NS_OPT KEY_OPTS, "spot get temp 1\nspot get temp latest | od -c\n", NULL},
    {"tail", "spot tail LOG [-n N] [--follow] [--from SEQ] [--to SEQ] [--count N] [--format raw|text|hex|json]\n",
     "print a log's elements as a stream",
     "Prints the last N elements (default 10) of LOG, or of the range --from..--to, oldest first; with --follow it "
     "then prints each new element as it is appended, until SIGINT or SIGTERM, --to, or --count elements. An element "
     "that expires before it is read (a fast writer on a small ring) is skipped with a line on stderr. LOG may be a "
     "remote name (the get right).\n\n"
     "Formats: text (the default) strips the zero padding and ends each element with a newline; raw writes every "
     "element's bytes as they are; hex writes SEQ and the element in hex; json writes one object per line with "
     "seqno, time (the put's time from the node's event log, null when it does not hold it, and for remote logs) "
     "and data: the text without padding when it is printable UTF-8, else the whole element in base64 with "
     "\"encoding\":\"base64\".\n",
     "-n N\tthe last N elements of the range (default 10; with --from or --to alone, the whole range)\n"
     "--follow\tkeep printing new elements (-f)\n"
     "--from SEQ\tstart at element SEQ\n"
     "--to SEQ\tstop after element SEQ\n"
     "--count N\tstop after N elements in all\n"
     "--format FMT\ttext, raw, hex or json\n"
     "--namespace DIR\tthe namespace (default $SPOT_DIR; or -n DIR before the verb)\n" KEY_OPTS,
     "spot tail temp\nspot tail temp -n 100 --format json\nspot tail temp --follow\n"
     "spot tail spot://127.0.0.1:7401/cloud/readings --from 1 --to 50 --format hex\n",
     NULL},
    {"latest", "spot latest LOG\n", "print a log's newest sequence number",
     "Prints the newest sequence number of LOG, 0 when it is empty. LOG may be a remote name.\n", NS_OPT KEY_OPTS,
     "spot latest temp\n", NULL},
    {"ls", "spot ls [spot://HOST:PORT/NS]\n", "list the logs of the namespace",
     "One line per log: name, element size, history, durability, newest sequence number and the handler bound to "
     "it (spot bind; - when none). A remote name lists that node's namespace (the get right).\n", NS_OPT KEY_OPTS,
     "spot ls\nspot ls spot://127.0.0.1:7401/cloud\n", NULL},
    {"rm", "spot rm LOG --yes\nspot rm spot://HOST:PORT/NS/LOG --yes\n", "remove a log and its binding",
     "Removes log LOG: its file, with every element, and its binding (spot bind). Without --yes it removes nothing "
     "and says what would be removed. Refused while a node serves the namespace or any process has the log open "
     "(stop them first). A log created later under the same name starts empty, unbound, from sequence number 1. "
     "A remote name removes the log on the node that serves it (the admin right; without --yes only the get right, "
     "to say what would go): the node steps aside for it (stops, removes, starts again: its handlers pause meanwhile "
     "and its run counters start again).\n",
     "--yes\tremove it (-y)\n" NS_OPT KEY_OPTS, "spot rm scratch\nspot rm scratch --yes\n"
     "spot rm spot://127.0.0.1:7401/cloud/scratch --yes\n",
     "0\tthe log was removed\n1\tnothing was removed: no --yes, no such log, it is in use, or the key lacks the right\n"},
    {"info", "spot info LOG [--json]\n", "show a log's geometry and state",
     "Element size, history, durability, newest, oldest and durable sequence numbers, file size and identity. LOG "
     "may be a remote name.\n",
     "--json\tone JSON object\n" NS_OPT KEY_OPTS, "spot info temp\nspot info temp --json\n", NULL},
    {"check", "spot check LOG [--fix]\nspot check spot://HOST:PORT/NS/LOG [--fix]\n", "verify a log and repair it",
     "Opens LOG (which recovers a torn tail left by a crash), verifies every slot's checksum and prints what it "
     "found. Damage in the middle of a log is reported; --fix marks the damaged elements lost so the rest stays "
     "readable, and restores damaged handler marks. A remote name runs the check on the node that serves the log "
     "and prints the same lines (the get right; --fix needs the admin right, and the node steps aside for it: it "
     "stops, the log is fixed, it starts again).\n",
     "--fix\trepair: mark damaged elements lost (needs the log to be closed by every other process; a remote node "
     "closes its own)\n" NS_OPT KEY_OPTS,
     "spot check temp\nspot check temp --fix\nspot check spot://127.0.0.1:7401/cloud/temp\n",
     "0\tthe log is intact (or was repaired)\n1\tdamage was found (run with --fix), the log cannot be opened, or "
     "the key lacks the right\n"},
    {"build-handler", "spot build-handler [-v] FILE.c|FILE.so\n", "compile, install and register handlers",
     "Compiles FILE.c into a shared object with $CC (default cc) against the headers of this spot's own install "
     "prefix (or of its build tree when it runs from there), installs it in the namespace under a new version, and "
     "registers every SPOT_HANDLER it defines. A ready FILE.so (from spot_add_handler in CMake) is installed the "
     "same way. A running spotd picks the new version up for the next put.\n",
     "-v\tprint the compiler's command line and where spot's headers came from\n" NS_OPT,
     "spot build-handler examples/hello/hello.c\nspot build-handler -v build/hello.so\n", NULL},
    {"handlers", "spot handlers [--remove NAME]\nspot handlers spot://HOST:PORT/NS\n",
     "list the registered handlers, or remove one",
     "One line per handler: id, name, version, the object that holds it and the logs bound to it (spot bind). "
     "--remove NAME takes a handler out of the registry: puts can no longer name it, and registering the name again "
     "gives it a new id; refused while a log is bound to it (spot unbind LOG first). Its object file stays. A remote "
     "name lists that node's handlers (the get right).\n",
     "--remove NAME\tremove handler NAME from the registry (local namespaces only)\n" NS_OPT KEY_OPTS,
     "spot handlers\nspot handlers --remove hello\nspot handlers spot://127.0.0.1:7401/cloud\n",
     NULL},
    {"bind", "spot bind LOG HANDLER\n", "run a handler on every put to a log",
     "Binds HANDLER to LOG (an event-source mapping): from now on every put to LOG that names no handler runs "
     "HANDLER, whoever puts: spot put, a program, a remote client through the node, another handler. A put that "
     "names a handler runs that one instead. One handler per log (an element carries one handler mark, which is what "
     "makes each run exactly once while the node is up and at least once across crashes); to run several, bind one "
     "that puts to further logs. The binding is stored durably in the namespace (synced before spot bind returns) "
     "and survives node restarts and power cuts; a running node sees it at the next put. Both must exist. LOG may be "
     "a remote name: the node binds it, if the access file gives this key the admin right.\n",
     NS_OPT KEY_OPTS, "spot bind greetings hello\nspot put greetings --data world   # runs hello\n"
     "spot bind spot://127.0.0.1:7401/cloud/readings store\n",
     "0\tbound (or bound to HANDLER already)\n1\tno such log or handler, or LOG is bound to another handler\n"},
    {"unbind", "spot unbind LOG [HANDLER]\n", "stop running a log's bound handler",
     "Removes the binding of LOG (spot bind): puts after it run no handler unless they name one; puts made before "
     "keep theirs. With HANDLER, only if that is the handler bound. LOG may be a remote name (the admin right).\n",
     NS_OPT KEY_OPTS, "spot unbind greetings\nspot unbind greetings hello\n",
     "0\tunbound\n1\tLOG has no binding, or is bound to another handler\n"},
    {"deploy", "spot deploy FILE.c|FILE.so spot://HOST:PORT/NS\n", "install a handler on a running node",
     "Builds FILE.c here as build-handler does (or takes FILE.so) and sends the object to the node serving NS, "
     "which installs and registers it. Needs the deploy right in that namespace's access file.\n",
     KEY_OPTS, "spot deploy examples/hello/hello.c spot://127.0.0.1:7401/cloud\n", NULL},
    {"events", "spot events [spot://HOST:PORT/NS] [--follow] [--json] [--from ID] [--limit N]\n",
     "print a node's event log",
     "Prints the node's event log: every put, handler start, end and fail, each with its time, element, handler, "
     "cause and (for end and fail) status, duration, CPU time and energy (at the node's power figure, spotd "
     "--watts). A remote name reads another node's log (the get right).\n",
     "--follow\tkeep printing new events until interrupted (-f)\n"
     "--json\tone JSON object per line\n"
     "--from ID\tstart at event ID\n"
     "--limit N\tprint at most N events\n" NS_OPT KEY_OPTS,
     "spot events\nspot events --follow --json\nspot events spot://127.0.0.1:7401/cloud --json\n", NULL},
    {"trace", "spot trace LOG SEQNO [--json | --dot] [--peer spot://HOST:PORT/NS]...\n",
     "print the causal tree of an element",
     "Follows the causes in the event log from element LOG#SEQNO back to the put that began its chain, and forward "
     "to every handler run and put that followed, across nodes where the events say so. A cause on another node "
     "is followed back through the nodes named with --peer (an event names its node's id, not its address). Each "
     "ended run shows its CPU time and energy; a last line (a \"total\" member in JSON) sums them over the tree.\n",
     "--json\tthe tree as JSON\n--dot\tthe tree as a Graphviz digraph\n"
     "--peer URL\ta node (spot://HOST:PORT/NS) whose event log the walk back may read; repeatable\n" NS_OPT,
     "spot trace a 1\nspot trace a 1 --dot | dot -Tsvg > trace.svg\n", NULL},
    {"status", "spot status [DIR | spot://HOST:PORT/NS] [--json]\n", "show what a node is doing",
     "Says whether a node serves the namespace (DIR, or -n / $SPOT_DIR, or a remote one: the get right there), with "
     "its pid, uptime, mode and workers; the puts naming a handler it has not taken yet (queue depth); handler runs "
     "and failures since it started (every non-zero return, crash or time-out counts); the put-to-start latency "
     "(p50, p99, from a log2 histogram: within a factor of 2); the CPU time and energy of runs, in all and per "
     "handler, with the power figure used (rapl where /sys/class/powercap can be read, else spotd --watts); and "
     "the puts and bytes of every log since it was made. The node keeps the counters in DIR/.spot/status.\n",
     "--json\tone JSON object\n" NS_OPT KEY_OPTS,
     "spot status\nspot status /tmp/home --json\nspot status spot://127.0.0.1:7401/cloud\n",
     "0\ta node serves the namespace\n1\tan error: the line on stderr says why\n"
     "3\tno node serves it (the last node's counters are shown)\n"},
    {"plan", "spot plan VERB [flags] [--json] [--plot FILE.svg|FILE.png] [--params FILE]\n",
     "the energy/billing planner",
     "Answers design questions with the energy/billing model (docs/model.md): VERB is energy, threshold, volume, "
     "billing, quota, devices, design, or montecarlo VERB. `spot plan` with no VERB lists each verb's flags.\n",
     "--dist D\tthe law of the volumes: uniform, exponential, pareto (with --alpha A) or fixed\n"
     "--mu BITS\tmean volume per interval\n"
     "--rho BITS\tthe idle/active threshold\n"
     "--devices N\tdevices per aggregator\n"
     "--quota BITS\tthe cloud's quota\n"
     "--json\tthe result as JSON\n"
     "--plot FILE\tplot to FILE.svg or FILE.png (gnuplot)\n"
     "--params FILE\tread flags from FILE\n",
     "spot plan quota --dist exponential --devices 100 --mu 8000\n"
     "spot plan energy --dist pareto --alpha 2.5 --mu 16384 --rho 16384 --json\n",
     NULL},
    {"keygen", "spot keygen NAME [--dir DIR]\n", "make a CURVE key pair",
     "Writes DIR/NAME.key (the secret key, mode 0600) and DIR/NAME.pub, and prints the public key. Nodes and clients "
     "are known by their public keys; a namespace's access file lists the keys and their rights.\n",
     "--dir DIR\twhere to write the files (default .)\n", "spot keygen cloud\nspot keygen sensor --dir ~/.spot\n",
     NULL},
    {"help", "spot help [VERB]\nspot VERB --help\n", "show help",
     "Prints the help of VERB (or the list of verbs). `spot VERB --help` does the same and never runs VERB. For a "
     "verb of an application (spot vquery), runs spot-VERB --help. The man pages spot(1), spotd(8) and "
     "spot-handler(7) hold the same text.\n",
     "--verbs\tthe verbs, one per line\n"
     "--options VERB\tVERB's options, one per line (for shell completion)\n"
     "--args VERB\tthe kind of VERB's first operand: log, file, dir, name, verb (for shell completion)\n"
     "--man DIR\twrite the man pages into DIR\n",
     "spot help put\nspot put --help\n", "0\thelp was printed\n2\tno such verb\n"},
    {"spotd",
     "spotd -n DIR [--mode worker|thread] [--workers N] [--timeout-ms MS] [--daemon] [--pidfile FILE] [--quiet]\n"
     "spotd -n DIR [--log FILE] [--log-level error|warn|info|debug] [...]\n"
     "spotd -n DIR [--watts W] [--metrics HOST:PORT]\n"
     "spotd -n DIR --listen HOST:PORT --key NODE.key [...]\n"
     "spotd -n DIR --mqtt HOST:PORT --bridge 'LOG<-TOPIC[:HANDLER]' --bridge 'LOG->TOPIC' [...]\n"
     "spotd -n DIR --mirror LOG=nats://HOST:PORT[/STREAM] [...]\n"
     "spotd -n DIR --pool nats://HOST:PORT[,...] --pool-name NAME --pool-log LOG:HANDLER [...]\n",
     "the spot node daemon",
     "Serves one namespace: runs the handler of every put that names one (in worker processes by default, or on "
     "threads) and writes the node's event log. With --listen it serves the namespace to other nodes over ZeroMQ "
     "with CURVE; the namespace's access file (DIR/access) says what each client key may do.\n\n"
     "It runs in the foreground until SIGTERM or SIGINT, then lets running handlers end and exits; started again, "
     "it runs every handler left pending. One node per namespace. In worker mode a handler that crashes or overruns "
     "--timeout-ms takes down only its worker: a fail event says why and a new worker starts.\n\n"
     "With --mqtt it bridges logs and MQTT topics (QoS 1, MQTT v5): each message on TOPIC becomes a put to LOG "
     "(running HANDLER), acknowledged to the broker once the put is durable; each put to an outbound LOG is published "
     "to TOPIC, and how far the broker acknowledged is saved, so nothing acknowledged is lost (duplicates are "
     "possible). The cause travels in user properties. With --mirror it keeps LOG copied into a NATS JetStream "
     "stream, exactly once by message id (spot mirror does it once). With --pool it shares the runs of HANDLER "
     "with the other spotd nodes of pool NAME through a JetStream work queue: its puts to LOG naming no handler "
     "become the pool's work, and each member runs what it takes as a put to its own LOG naming HANDLER (the "
     "origin put as its cause), acknowledged when the run ends; a run whose member dies is delivered again after "
     "--timeout-ms + 1 s, and work that fails --pool-max-deliver times goes to the dead-letter stream.\n\n"
     "Its log: lines on stderr as `spotd: LEVEL: text`, or with journald priority prefixes (<3> error ... <7> "
     "debug) when stderr is the systemd journal ($JOURNAL_STREAM). With --log FILE, and with --daemon (to "
     "DIR/.spot/spotd.log unless --log says otherwise), everything spotd writes goes to FILE, each line stamped with "
     "the UTC time: its own lines, and the standard output and error of its workers' handlers, each line prefixed "
     "with [HANDLER #RUN] (RUN: the run's start event id). SIGHUP opens FILE anew, so logrotate may rename it and "
     "signal (no copytruncate). A thread-mode handler shares spotd's own stdout and stderr: what it prints goes there "
     "unprefixed (spot_print lines carry the prefix in both modes). A failed run's fail event says why "
     "(spot events, spot trace): the error's name and the handler's own line (spot_fail, spot-handler(7)), or the "
     "last line it printed; a crash names the signal. At exit spotd says how many runs it made and how many "
     "failed: every non-zero return, crash and time-out.\n",
     "-n DIR\tthe namespace to serve (default $SPOT_DIR)\n"
     "--mode MODE\tworker (handlers in worker processes, the default) or thread (in-process)\n"
     "--workers N\tworker processes or threads, 1 to 64 (default 2)\n"
     "--timeout-ms MS\ta handler's time limit (worker mode; default none)\n"
     "--daemon\tdetach once serving (the starting process exits 0 then, or with the failure)\n"
     "--pidfile FILE\twrite the pid to FILE once the node lock is held; removed at exit\n"
     "--quiet\tonly errors: --log-level error, and no lines about the node's life from the library\n"
     "--log FILE\tappend spotd's lines and its handlers' output to FILE (stamped; opened anew on SIGHUP)\n"
     "--log-level LEVEL\terror, warn, info (the default) or debug: spotd's lines above LEVEL are left out\n"
     "--watts W\tthe power of one busy CPU, for the energy of runs (CPU time x W; default 10); where RAPL "
     "(/sys/class/powercap/intel-rapl) can be read the node measures it instead, and spot status says which\n"
     "--poll-us N\tbefore an idle node sleeps, its threads (or dispatcher and workers) look for new work for N "
     "microseconds (default 0, at most 100000): a put that comes meanwhile starts its handler without a wake-up, "
     "for up to N us of CPU per idle thread after each burst; for latency-bound servers, not battery devices\n"
     "--metrics HOST:PORT\tserve GET /metrics in the Prometheus text format (spot_* counters, gauges and the "
     "put-to-start latency histogram); needs a build with libmicrohttpd\n"
     "--listen HOST:PORT\tserve the namespace to other nodes (needs --key)\n"
     "--key FILE\tthe node's key pair (from spot keygen; default $SPOT_KEY)\n"
     "--serial NAME=PATH\tserve the device on the serial link PATH (a tty, pty or unix socket) as namespace NAME "
     "(with --listen; up to 8)\n"
     "--mqtt HOST:PORT\tthe MQTT broker of the --bridge routes\n"
     "--bridge ROUTE\tLOG<-TOPIC[:HANDLER] (topic to log) or LOG->TOPIC (log to topic); repeatable\n"
     "--mqtt-user NAME\tthe broker account\n"
     "--mqtt-password-file FILE\tits password (the file's first line)\n"
     "--mqtt-cafile FILE\tTLS: the CA that signed the broker's certificate\n"
     "--mqtt-cert FILE\tTLS: a client certificate (with --mqtt-key)\n"
     "--mqtt-key FILE\tTLS: its key\n"
     "--mqtt-client-id ID\tthe broker session's name (default spot-NODEID)\n"
     "--mirror LOG=URL\tkeep LOG copied into a JetStream stream, URL nats://HOST:PORT[,HOST:PORT...][/STREAM]\n"
     "--mirror-replicas N\treplicas of a stream the mirror makes (default 1)\n"
     "--pool URL\tjoin a handler pool on NATS, URL nats://HOST:PORT[,HOST:PORT...]\n"
     "--pool-name NAME\tthe pool (streams SPOT_POOL_NAME, _DONE, _DEAD; consumer NAME)\n"
     "--pool-log LOG:HANDLER\tthe pooled log and the handler its work runs\n"
     "--pool-role ROLE\tboth (default), feed (only publish this node's puts) or work (only run work)\n"
     "--pool-max-deliver N\truns before work goes to the dead letters (default 5)\n"
     "--pool-replicas N\treplicas of the streams the pool makes (default 1)\n"
     "--pool-window N\truns taken and not ended at a time here (default 2 x --workers)\n"
     "--version\tprint the version\n"
     "--help\tprint this help\n",
     "spotd -n /tmp/home\nspotd -n /tmp/home --mode thread --workers 4 --daemon --pidfile /run/spotd.pid\n"
     "spotd -n /tmp/cloud --listen 127.0.0.1:7401 --key cloud.key\n"
     "spotd -n /tmp/edge --listen 127.0.0.1:7402 --key edge.key --serial dev=/tmp/dev.sock\n"
     "spotd -n /tmp/home --mqtt 127.0.0.1:1883 --bridge 'temp<-site/+/temp:frost' --bridge 'alerts->site/alerts'\n"
     "spotd -n /tmp/home --mirror temp=nats://127.0.0.1:4222\n"
     "spotd -n /tmp/home --daemon --log /var/log/spotd.log --log-level warn   # kill -HUP after rotating it\n"
     "spotd -n /tmp/cloud --timeout-ms 5000 --pool nats://127.0.0.1:4222 --pool-name match --pool-log q:matcher\n"

     "spotd -n /tmp/home --watts 4.5 --metrics 127.0.0.1:9464\n",
     "0\tstopped by SIGTERM or SIGINT, or --help/--version\n1\tcould not start: the line on stderr says why\n"
     "2\ta wrong argument\n"},
    {"spot-handler", "#include <spot/handler.h>\n", "writing spot handlers",
     "A handler is a C function int fn(spot_ctx_t *ctx, const spot_event_t *ev) that spot runs when an element is "
     "put to a log naming it. SPOT_HANDLER(fn), at file scope after the function, registers it under its own name. "
     "It returns 0 for success; anything else is recorded as a fail event with that status.\n\n"
     "Why a run failed: spot_fail(ctx, fmt, ...) records a detail line for the current run, and the fail event's "
     "reason becomes \"ENAME: detail\", ENAME being the error's name when the return value is a SPOT_E* code "
     "(\"SPOT_ERANGE: reading 99.0 out of range\") and \"returned N\" otherwise. Without spot_fail the detail is "
     "that of the spot call that failed last in the run (spot_errdetail), else the last line the run printed. The "
     "reason is cut to the event record's field; spot events and spot trace print it. A crash in worker mode gives "
     "\"worker killed by SIGSEGV\" (the signal's name). In C, spot_fail(SPOT_E..., fmt, ...) with an error code "
     "instead of ctx is spot/error.h's (it sets spot_errdetail and returns the code); C++ calls spot_ctx_fail. "
     "spot_fail works the same on a device (the firmware's fail events carry it).\n\n"
     "ev->log, ev->seq, ev->data and ev->size describe the element (data is a private copy, valid during the call); "
     "ev->handler, ev->node, ev->event_id and ev->put_id identify this run.\n\n"
     "spot_ctx_put(ctx, log, data, len, handler, &seq) appends to a log of this node, or of another node when log "
     "is spot://HOST:PORT/NS/LOG; the put records this run as its cause, so spot trace follows the chain. "
     "spot_ctx_get(ctx, log, seq, buf, cap) and spot_ctx_latest(ctx, log, &seq) read. spot_print(ctx, fmt, ...) "
     "writes one line to the node's output, prefixed with the handler and event; in worker mode the handler's "
     "own stdout and stderr are kept too, each line prefixed the same way (spotd(8): --log).\n\n"
     "Build with spot build-handler FILE.c, or with CMake: find_package(spot CONFIG) then spot_add_handler(NAME "
     "FILE.c) and spot build-handler NAME.so. Install on a running remote node with spot deploy. The same source "
     "builds for every scale; a handler needs no OS calls.\n",
     NULL,
     "#include <spot/handler.h>\n"
     "static int hello(spot_ctx_t *ctx, const spot_event_t *ev) {\n"
     "  spot_print(ctx, \"hello, %.*s\", (int)ev->size, (const char *)ev->data);\n"
     "  return 0;\n"
     "}\n"
     "SPOT_HANDLER(hello)\n"
     "static int check(spot_ctx_t *ctx, const spot_event_t *ev) {\n"
     "  double t = atof((const char *)ev->data);\n"
     "  if (t < -60 || t > 60) {\n"
     "    spot_fail(ctx, \"reading %.1f out of range\", t);   /* the fail event: SPOT_ERANGE: reading ... */\n"
     "    return SPOT_ERANGE;\n"
     "  }\n"
     "  return 0;\n"
     "}\n"
     "SPOT_HANDLER(check)\n",
     ""},
};

const spot_help_t *spot_help_find(const char *name) {
  for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++)
    if (strcmp(pages[i].name, name) == 0)
      return &pages[i];
  return NULL;
}
