#include "tests/guests/hostile64/hostile64.h"

void attack_vdev_race(void)
{
    printf("hostile: vdev-race not yet\n");
}
