/* pool_client HOST PORT COUNT: COUNT connections, one after another, to
 * HOST:PORT (a numeric address); prints the line each one answers (or
 * "(no answer)").  Exits 1 at the first connection refused or failed. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV }, *ai;
	char buf[256];
	long count;
	ssize_t n;
	size_t got;
	int fd, r;

	if (argc != 4 || (count = strtol(argv[3], NULL, 10)) <= 0) {
		fprintf(stderr, "usage: pool_client HOST PORT COUNT\n");
		return 2;
	}
	if ((r = getaddrinfo(argv[1], argv[2], &hints, &ai)) != 0) {
		fprintf(stderr, "pool_client: %s: %s\n", argv[1], gai_strerror(r));
		return 2;
	}
	for (long i = 0; i < count; i++) {
		if ((fd = socket(ai->ai_family, SOCK_STREAM, 0)) == -1 ||
		    connect(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
			fprintf(stderr, "pool_client: connection %ld: %s\n", i + 1, strerror(errno));
			return 1;
		}
		got = 0;
		while (got < sizeof(buf) - 1 &&
		       (n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0)
			got += (size_t)n;
		buf[got] = '\0';
		close(fd);
		fputs(got ? buf : "(no answer)\n", stdout);
	}
	freeaddrinfo(ai);
	return 0;
}
