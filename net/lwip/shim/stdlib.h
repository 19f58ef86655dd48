/* lwIP includes <stdlib.h> for atoi (netif.c): provided by net/lwip_port.c. */
int atoi(const char *s);
