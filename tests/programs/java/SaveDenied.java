// Saves a file with Files.write and lets any I/O exception propagate out
// of main: the JVM prints it (AccessDeniedException, IOException) and
// exits 1. The error is reported, if uncaught: not a crash.
import java.nio.file.Files;
import java.nio.file.Path;

public class SaveDenied {
    public static void main(String[] args) throws Exception {
        Files.write(Path.of("saved.txt"), "the saved text\n".getBytes());
        System.out.println("saved");
    }
}
