#include "stop.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ktstr/log.h>

#include "cli.h"

static volatile int g_sig;		/* first stop signal */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t g_child;			/* guarded by g_lock */
static bool g_child_pgrp;
static int g_sock = -1;			/* guarded by g_lock */
static int g_tty_fd = -1;
static struct termios g_tty;
static volatile int *g_flag;

static void restore_tty_locked(void)
{
	if (g_tty_fd >= 0)
		tcsetattr(g_tty_fd, TCSANOW, &g_tty);
}

static void *watcher(void *arg)
{
	const sigset_t *set = arg;

	for (;;) {
		int sig;

		if (sigwait(set, &sig))
			continue;
		pthread_mutex_lock(&g_lock);
		restore_tty_locked();
		if (__atomic_load_n(&g_sig, __ATOMIC_SEQ_CST)) {
			/* Second signal: no more waiting. */
			pthread_mutex_unlock(&g_lock);
			_exit(EXIT_INTERRUPTED);
		}
		__atomic_store_n(&g_sig, sig, __ATOMIC_SEQ_CST);
		if (g_flag)
			__atomic_store_n(g_flag, 1, __ATOMIC_SEQ_CST);
		if (g_child > 0)
			kill(g_child_pgrp ? -g_child : g_child, SIGKILL);
		if (g_sock >= 0)
			shutdown(g_sock, SHUT_RDWR);
		pthread_mutex_unlock(&g_lock);
		kwarn("%s: stopping every VM and exiting (send it again to exit at once)",
		      strsignal(sig));
	}
	return NULL;
}

int stop_init(void)
{
	static sigset_t set;
	pthread_attr_t attr;
	pthread_t t;
	int ret;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	ret = -pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (ret)
		return ret;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	ret = -pthread_create(&t, &attr, watcher, &set);
	pthread_attr_destroy(&attr);
	return ret;
}

int stop_signal(void)
{
	return __atomic_load_n(&g_sig, __ATOMIC_SEQ_CST);
}

void stop_watch_child(pid_t pid, bool pgrp)
{
	pthread_mutex_lock(&g_lock);
	g_child = pid;
	g_child_pgrp = pgrp;
	if (pid > 0 && stop_signal())
		kill(pgrp ? -pid : pid, SIGKILL);
	pthread_mutex_unlock(&g_lock);
}

void stop_watch_sock(int fd)
{
	pthread_mutex_lock(&g_lock);
	g_sock = fd;
	if (fd >= 0 && stop_signal())
		shutdown(fd, SHUT_RDWR);
	pthread_mutex_unlock(&g_lock);
}

void stop_watch_tty(int fd, const struct termios *saved)
{
	pthread_mutex_lock(&g_lock);
	g_tty_fd = saved ? fd : -1;
	if (saved)
		g_tty = *saved;
	pthread_mutex_unlock(&g_lock);
}

void stop_link_flag(volatile int *flag)
{
	pthread_mutex_lock(&g_lock);
	g_flag = flag;
	if (flag && stop_signal())
		__atomic_store_n(flag, 1, __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&g_lock);
}
