/* librdkafka's in-memory mock cluster (as ../shared/tools/rdkafka-perf/mock_cluster), with topics
 * created up front, since the mock has no CreateTopics API:  mock_topics BROKERS [TOPIC:PARTITIONS ...]
 * Prints the bootstrap address, runs until SIGTERM.                                                */
#include <stdio.h>
#include <signal.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
static volatile int run = 1;
static void stop(int sig) { (void)sig; run = 0; }
int main(int argc, char **argv) {
  int brokers = argc > 1 ? atoi(argv[1]) : 1;
  char err[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  if (!rk) { fprintf(stderr, "%s\n", err); return 1; }
  rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
  if (!mc) { fprintf(stderr, "mock cluster failed\n"); return 1; }
  for (int i = 2; i < argc; i++) {
    char name[256];
    int parts = 1;
    const char *colon = strchr(argv[i], ':');
    size_t len = colon ? (size_t)(colon - argv[i]) : strlen(argv[i]);
    if (len >= sizeof(name)) len = sizeof(name) - 1;
    memcpy(name, argv[i], len);
    name[len] = 0;
    if (colon) parts = atoi(colon + 1);
    if (rd_kafka_mock_topic_create(mc, name, parts, 1)) { fprintf(stderr, "cannot create %s\n", name); return 1; }
  }
  printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc)); fflush(stdout);
  signal(SIGINT, stop); signal(SIGTERM, stop);
  while (run) usleep(100000);
  rd_kafka_mock_cluster_destroy(mc); rd_kafka_destroy(rk);
  return 0;
}
