import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Many threads doing work whose result is deterministic: arithmetic,
 * allocation, contended locking, and NullPointerExceptions caught on purpose
 * (HotSpot turns null dereferences into SIGSEGV and handles them itself).
 * Prints one line per thread and a total, and exits with status 3.
 */
public class Workers {
    static final int THREADS = 16;
    static final Object lock = new Object();
    static long shared = 0;

    static int[] maybeNull(int i) {
        return (i % 7 == 0) ? null : new int[] {i};
    }

    static long work(int id) {
        long sum = 0;
        int npes = 0;
        for (int i = 0; i < 200_000; i++) {
            sum += (long) i * (id + 1) % 1_000_003;
            try {
                sum += maybeNull(i)[0] & 1;
            } catch (NullPointerException e) {
                npes++;
            }
            if (i % 1000 == 0) {
                StringBuilder sb = new StringBuilder();
                for (int j = 0; j < 50; j++) sb.append(j);
                sum += sb.length();
                synchronized (lock) {
                    shared += 1;
                }
            }
        }
        return sum * 1000 + npes % 1000;
    }

    public static void main(String[] args) throws Exception {
        long[] results = new long[THREADS];
        AtomicLong done = new AtomicLong();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            final int id = t;
            Thread th = new Thread(() -> {
                results[id] = work(id);
                done.incrementAndGet();
            });
            threads.add(th);
            th.start();
        }
        for (Thread th : threads) th.join();
        long total = 0;
        for (int t = 0; t < THREADS; t++) {
            System.out.println("thread " + t + ": " + results[t]);
            total += results[t];
        }
        System.out.println("done " + done.get() + " shared " + shared + " total " + total);
        System.exit(3);
    }
}
