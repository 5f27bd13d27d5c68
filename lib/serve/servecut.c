/* servecut.c - a request must arrive whole within --timeout.
 *
 * libmicrohttpd's connection timeout counts the time since the last byte
 * received, so a client sending one byte a second (slowloris) holds its
 * connection for ever, and enough of them hold every one.  Here each
 * connection has a deadline: --timeout after it opened, or after its
 * previous answer went out, its next request must be in, body and all.
 * A thread looks over the deadlines a few times a second and shuts down
 * the socket of any connection past its own; libmicrohttpd then sees the
 * end of the stream and closes the connection as it would any other. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "serve/serve.h"

struct cm_cut_conn {
    int fd;
    /* monotonic seconds, 0 while answering; set by the request's thread
     * without the lock, so that a request takes none on its way */
    _Atomic double deadline;
    struct cm_cut_conn *prev, *next;
};

struct cm_cutter {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    double timeout;
    int stop;
    unsigned long long cuts;
    cm_cut_conn head; /* a ring: head.next is the first */
};

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* A quarter of a second past a deadline at most, for one comparison per
 * connection: cheap beside the requests it guards. */
static void *watch(void *arg)
{
    cm_cutter *c = arg;
    pthread_mutex_lock(&c->lock);
    while (!c->stop) {
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        t.tv_nsec += 250000000;
        if (t.tv_nsec >= 1000000000)
            t.tv_sec++, t.tv_nsec -= 1000000000;
        pthread_cond_timedwait(&c->wake, &c->lock, &t);
        double n = now();
        for (cm_cut_conn *k = c->head.next; k != &c->head; k = k->next) {
            double d = atomic_load_explicit(&k->deadline, memory_order_relaxed);
            if (d > 0 && n > d) {
                /* the descriptor is still this connection's: it is
                 * closed only after cm_cutter_remove, under this lock */
                shutdown(k->fd, SHUT_RDWR);
                atomic_store_explicit(&k->deadline, 0, memory_order_relaxed);
                c->cuts++;
            }
        }
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

cm_cutter *cm_cutter_new(unsigned timeout)
{
    cm_cutter *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->timeout = timeout;
    c->head.next = c->head.prev = &c->head;
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->wake, NULL);
    if (pthread_create(&c->thread, NULL, watch, c)) {
        pthread_cond_destroy(&c->wake);
        pthread_mutex_destroy(&c->lock);
        free(c);
        return NULL;
    }
    return c;
}

void cm_cutter_free(cm_cutter *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    c->stop = 1;
    pthread_cond_signal(&c->wake);
    pthread_mutex_unlock(&c->lock);
    pthread_join(c->thread, NULL);
    while (c->head.next != &c->head)
        cm_cutter_remove(c, c->head.next);
    pthread_cond_destroy(&c->wake);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

cm_cut_conn *cm_cutter_add(cm_cutter *c, int fd)
{
    cm_cut_conn *k = malloc(sizeof *k);
    if (!k)
        return NULL;
    k->fd = fd;
    atomic_init(&k->deadline, now() + c->timeout);
    pthread_mutex_lock(&c->lock);
    k->next = &c->head;
    k->prev = c->head.prev;
    k->prev->next = k;
    c->head.prev = k;
    pthread_mutex_unlock(&c->lock);
    return k;
}

void cm_cutter_remove(cm_cutter *c, cm_cut_conn *k)
{
    if (!k)
        return;
    pthread_mutex_lock(&c->lock);
    k->prev->next = k->next;
    k->next->prev = k->prev;
    pthread_mutex_unlock(&c->lock);
    free(k);
}

void cm_cutter_arm(cm_cutter *c, cm_cut_conn *k, int waiting)
{
    if (k)
        atomic_store_explicit(&k->deadline, waiting ? now() + c->timeout : 0,
                              memory_order_relaxed);
}

unsigned long long cm_cutter_cuts(cm_cutter *c)
{
    pthread_mutex_lock(&c->lock);
    unsigned long long n = c->cuts;
    pthread_mutex_unlock(&c->lock);
    return n;
}
