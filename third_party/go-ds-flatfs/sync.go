package flatfs

import (
	"errors"
	"os"
	"runtime"
	"sync"
)

// don't block more than 16 threads on sync opearation
// 16 should be able to sataurate most RAIDs
// in case of two used disks per write (RAID 1, 5) and queue depth of 2,
// 16 concurrent Sync calls should be able to saturate 16 HDDs RAID
// TODO: benchmark it out, maybe provide tweak parmeter
const SyncThreadsMax = 16

var syncSemaphore chan struct{} = make(chan struct{}, SyncThreadsMax)

func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		// dir sync on windows doesn't work: https://git.io/vPnCI
		return nil
	}

	dirF, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer dirF.Close()

	syncSemaphore <- struct{}{}
	defer func() { <-syncSemaphore }()

	if err := dirF.Sync(); err != nil {
		return err
	}
	return nil
}

func syncFile(file *os.File) error {
	syncSemaphore <- struct{}{}
	defer func() { <-syncSemaphore }()
	return file.Sync()
}

// syncDirs syncs every directory of dirs, up to SyncThreadsMax at once: a
// batch's blocks land in as many shard directories as blocks, and one
// directory fsync after the other took a tenth of a large import.
func syncDirs(dirs map[string]struct{}) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for dir := range dirs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := syncDir(dir); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
