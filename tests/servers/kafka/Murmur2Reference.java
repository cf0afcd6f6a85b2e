// Independent reference for the Kafka sink's partition choice: reads hex-encoded keys, one per line, and
// prints "hex murmur2 p1 p2 ..." using the Kafka client's own code (Utils.murmur2 and the producer's
// BuiltInPartitioner.partitionForKey), for the partition counts given as arguments.
// Run: java -cp '.cache/kafka/<version>/*' tests/servers/kafka/Murmur2Reference.java 1 3 12 < keys.txt
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.util.HexFormat;
import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;
import org.apache.kafka.common.utils.Utils;

public class Murmur2Reference {
    public static void main(String[] args) throws Exception {
        int[] counts = new int[args.length];
        for (int i = 0; i < args.length; i++) counts[i] = Integer.parseInt(args[i]);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        StringBuilder out = new StringBuilder();
        String line;
        while ((line = in.readLine()) != null) {
            byte[] key = HexFormat.of().parseHex(line.trim());
            out.append(line.trim()).append(' ').append(Utils.murmur2(key));
            for (int n : counts) out.append(' ').append(BuiltInPartitioner.partitionForKey(key, n));
            out.append('\n');
        }
        System.out.print(out);
    }
}
