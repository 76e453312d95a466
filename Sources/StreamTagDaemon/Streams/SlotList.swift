/// A doubly linked list of stream slots threaded through two arrays (no node allocation):
/// O(1) append, first and removal from anywhere. The stream table keeps its idle streams
/// on one, oldest idle first, so that the memory cap finds its victim in O(1).
struct SlotList: Sendable {
    private static let none = -1
    /// Marks a slot that is not on the list.
    private static let unlinked = -2

    private var previous: [Int] = []
    private var next: [Int] = []
    private var head = SlotList.none
    private var tail = SlotList.none

    var first: Int? { head == Self.none ? nil : head }

    func contains(_ slot: Int) -> Bool { slot < previous.count && previous[slot] != Self.unlinked }

    /// Appends `slot` (which must not be on the list).
    mutating func append(_ slot: Int) {
        if slot >= previous.count {
            let grow = max(slot + 1, previous.count * 2) - previous.count
            previous.append(contentsOf: repeatElement(Self.unlinked, count: grow))
            next.append(contentsOf: repeatElement(Self.unlinked, count: grow))
        }
        precondition(previous[slot] == Self.unlinked, "slot \(slot) is already on the list")
        previous[slot] = tail
        next[slot] = Self.none
        if tail == Self.none { head = slot } else { next[tail] = slot }
        tail = slot
    }

    /// Takes `slot` off the list; nothing when it is not on it.
    mutating func remove(_ slot: Int) {
        guard contains(slot) else { return }
        let p = previous[slot], n = next[slot]
        if p == Self.none { head = n } else { next[p] = n }
        if n == Self.none { tail = p } else { previous[n] = p }
        previous[slot] = Self.unlinked
        next[slot] = Self.unlinked
    }
}
