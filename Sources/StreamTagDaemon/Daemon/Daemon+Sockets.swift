import Foundation
import StreamTagCore

extension Daemon {
    /// Creates and binds/connects the three sockets.
    func openSockets() throws {
        input = try context.socket(.sub)
        try input.setOption(.receiveHighWaterMark, Int32(clamping: config.input.hwm))
        try input.setMaxMessageSize(Int64(config.input.effectiveMaxZMQMessageBytes))
        for prefix in config.input.subscribe { try input.subscribe(Array(prefix.utf8)) }
        if config.input.connect.isEmpty {
            try input.bind(config.input.bind)
            inputEndpoint = try input.lastEndpoint
        } else {
            for endpoint in config.input.connect { try input.connect(endpoint) }
            inputEndpoint = config.input.connect.joined(separator: ",")
        }

        output = try context.socket(config.output.noDrop ? .xpub : .pub)
        try output.setOption(.sendHighWaterMark, Int32(clamping: config.output.hwm))
        if config.output.noDrop { try output.setOption(.xpubNoDrop, 1) }
        try output.bind(config.output.bind)
        outputEndpoint = try output.lastEndpoint

        control = try context.socket(.rep)
        try control.bind(config.control.bind)
        controlEndpoint = try control.lastEndpoint
    }
}
