#if STREAMTAG_TSAN
import StreamTagZMQ

/// ThreadSanitizer builds only: every `Mutex` of this module is the pthread one ThreadSanitizer
/// can see (`StreamTagZMQ/TSanVisibleMutex.swift` says why).
typealias Mutex<Value> = TSanVisibleMutex<Value>
#endif
