/**
 * Names the JVM or a native library generates per run (reflection accessors, lambda classes, unpacked JNI
 * libraries) made stable, exactly as grafana/jfr-parser's `mergeJVMGeneratedClasses` (parser/symbols.go) does to
 * every symbol, so that flamebill's function names match Pyroscope's and do not split per process.
 */
const RULES: readonly (readonly [RegExp, string])[] = [
  // jdk/internal/reflect/GeneratedMethodAccessor31
  [/^(jdk\/internal\/reflect\/GeneratedMethodAccessor)(\d+)$/, '$1_'],
  // org/example/rideshare/OrderService$$Lambda$669.0x0000000800fd7318, Fib$$Lambda.0x00007ffa600c4da0
  [/^(.+\$\$Lambda)(\$?\d*[./](0x)?[\da-f]+|\d+)$/, '$1_'],
  // libzstd-jni-1.5.1-16931311898282279136.so
  [/^(\.?\/tmp\/)?(libzstd-jni-\d+\.\d+\.\d+-)(\d+)(\.so)( \(deleted\))?$/, 'libzstd-jni-_.so'],
  // ./tmp/libamazonCorrettoCryptoProvider109b39cf33c563eb.so
  [
    /^(\.?\/tmp\/)?(lib)?(amazonCorrettoCryptoProvider)(NativeLibraries\.)?([0-9a-f]{16})(\/libcrypto|\/libamazonCorrettoCryptoProvider)?(\.so)( \(deleted\))?$/,
    'libamazonCorrettoCryptoProvider_.so',
  ],
  // libasyncProfiler-linux-arm64-17b9a1d8156277a98ccc871afa9a8f69215f92.so
  [
    /^(\.?\/tmp\/)?(libasyncProfiler)-(linux-arm64|linux-musl-x64|linux-x64|macos)-(17b9a1d8156277a98ccc871afa9a8f69215f92)(\.so)( \(deleted\))?$/,
    'libasyncProfiler-_.so',
  ],
  [/^(.+\$\$EnhancerBySpringCGLIB\$\$)(.*)$/, '$1_'],
];

/** A symbol with its per-run parts replaced by `_`. */
export function stableSymbol(symbol: string): string {
  let s = symbol;
  for (const [re, replacement] of RULES) s = s.replace(re, replacement);
  return s;
}
