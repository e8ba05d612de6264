/* Sweeping the image cache of temporary files a dead builder left. */
#ifndef KTSTR_BUILDER_IMGSWEEP_H
#define KTSTR_BUILDER_IMGSWEEP_H

/* Fingerprint temps (written without a lock) count as stale past this age:
 * three times the longest build the orchestrator waits for. */
#define IMGSWEEP_UNLOCKED_AGE_S 900

/* Remove stale "<key>.{img,ok,fp}.tmp.<pid>" files below dirfd (-1: no
 * disk cache, nothing to do). *removed counts them. 0 or -errno. */
int imgsweep(int dirfd, unsigned *removed);

#endif
