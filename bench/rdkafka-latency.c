/* Produce latency probe on librdkafka: sends SIZE-byte messages at a fixed RATE (msg/s) for COUNT
 * messages and prints the delivery latency percentiles (enqueue -> delivery report) in ms:
 *   rdkafka_latency BROKERS TOPIC RATE COUNT SIZE ACKS
 * Output (last line): p50=.. p99=.. p999=.. max=.. delivered=.. failed=..                       */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <librdkafka/rdkafka.h>

static double *lat;
static long done_count, failed;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
  (void)rk; (void)opaque;
  if (m->_private == NULL) return; /* warm-up message */
  if (m->err) { failed++; free(m->_private); return; }
  double sent = *(double *)m->_private;
  lat[done_count++] = now_ms() - sent;
  free(m->_private);
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc < 7) { fprintf(stderr, "usage: %s BROKERS TOPIC RATE COUNT SIZE ACKS\n", argv[0]); return 2; }
  const char *brokers = argv[1], *topic = argv[2], *acks = argv[6];
  long rate = atol(argv[3]), count = atol(argv[4]), size = atol(argv[5]);
  char err[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", brokers, err, sizeof(err));
  rd_kafka_conf_set(conf, "acks", acks, err, sizeof(err));
  rd_kafka_conf_set(conf, "linger.ms", "1", err, sizeof(err));
  rd_kafka_conf_set(conf, "enable.idempotence", "false", err, sizeof(err));
  rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  if (!rk) { fprintf(stderr, "%s\n", err); return 1; }
  lat = calloc(count, sizeof(double));
  char *payload = malloc(size);
  memset(payload, 'x', size);
  /* Warm up: metadata and connection. */
  rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_VALUE(payload, size), RD_KAFKA_V_OPAQUE(NULL), RD_KAFKA_V_END);
  rd_kafka_flush(rk, 10000);
  done_count = 0;
  double start = now_ms();
  for (long i = 0; i < count; i++) {
    double due = start + (double)i * 1000.0 / rate;
    /* Sleep, not spin, until the message is due: a spinning probe would take a whole core from the
     * broker on a 2-core machine. Messages that fell due while asleep go out back to back. */
    for (double wait = due - now_ms(); wait > 0; wait = due - now_ms()) {
      rd_kafka_poll(rk, 0);
      if (wait > 0.05) {
        struct timespec ts = { 0, (long)(wait * 1e6) };
        nanosleep(&ts, NULL);
      }
    }
    double *t = malloc(sizeof(double));
    *t = now_ms();
    while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_VALUE(payload, size),
                             RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(t), RD_KAFKA_V_END) != 0) {
      rd_kafka_poll(rk, 1);
    }
    rd_kafka_poll(rk, 0);
  }
  rd_kafka_flush(rk, 30000);
  double elapsed = now_ms() - start;
  qsort(lat, done_count, sizeof(double), cmp);
  long n = done_count;
  double p50 = n ? lat[(long)(n * 0.50)] : -1, p99 = n ? lat[(long)(n * 0.99)] : -1;
  double p999 = n ? lat[(long)(n * 0.999)] : -1, mx = n ? lat[n - 1] : -1;
  printf("p50=%.3f p99=%.3f p999=%.3f max=%.3f delivered=%ld failed=%ld rate=%.0f\n",
         p50, p99, p999, mx, done_count, failed, done_count / (elapsed / 1000.0));
  rd_kafka_destroy(rk);
  return 0;
}
