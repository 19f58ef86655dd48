/* The console's `net`: the hypervisor's NIC, link, address and counters. */
#include "core/command.h"
#include "net/net.h"

static int cmd_net(int argc, char **argv)
{
    if (argc != 1) {
        cprintf("error: usage: net\n");
        return -1;
    }
    net_show(cprintf);
    return 0;
}
COMMAND("net", "", "the network console's NIC, link, address and counters", cmd_net);
