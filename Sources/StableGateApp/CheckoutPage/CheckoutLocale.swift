import Foundation

/// The languages of the hosted checkout page.
public enum CheckoutLocale: String, Sendable, CaseIterable {
    case english = "en"
    case simplifiedChinese = "zh"

    /// The BCP 47 tag for `<html lang>`.
    public var languageTag: String {
        switch self {
        case .english: "en"
        case .simplifiedChinese: "zh-Hans"
        }
    }

    /// The language's own name, for the switcher.
    public var nativeName: String {
        switch self {
        case .english: "English"
        case .simplifiedChinese: "简体中文"
        }
    }

    /// Picks a language: an explicit choice first (`?lang=` or the remembered cookie), then the
    /// browser's `Accept-Language` by quality, English by default.
    public static func negotiate(explicit: String?, acceptLanguage: String?) -> CheckoutLocale {
        if let explicit, let chosen = CheckoutLocale(rawValue: explicit.lowercased().prefix(2).description) { return chosen }
        guard let header = acceptLanguage else { return .english }
        let ranked = header.split(separator: ",").compactMap { part -> (tag: String, quality: Double)? in
            let pieces = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let tag = pieces.first, !tag.isEmpty else { return nil }
            var quality = 1.0
            for piece in pieces.dropFirst() where piece.hasPrefix("q=") {
                quality = Double(piece.dropFirst(2)) ?? 0
            }
            return (tag.lowercased(), quality)
        }.sorted { $0.quality > $1.quality }
        for entry in ranked where entry.quality > 0 {
            if entry.tag.hasPrefix("zh") { return .simplifiedChinese }
            if entry.tag.hasPrefix("en") || entry.tag == "*" { return .english }
        }
        return .english
    }

    /// A translated string; `{name}` placeholders are filled from `values`.
    public func text(_ key: CheckoutText, _ values: [String: String] = [:]) -> String {
        var template = self == .simplifiedChinese ? key.chinese : key.english
        for (name, value) in values { template = template.replacingOccurrences(of: "{\(name)}", with: value) }
        return template
    }
}

/// Every string on the checkout page, in English and Simplified Chinese.
public enum CheckoutText: String, CaseIterable, Sendable {
    case pageTitle, order, orderId, amount, rate, chooseTitle, chooseHint, network, coin, continueButton, noNetworks
    case scanTitle, scanHint, depositAddress, exactAmount, copy, copied, qrLabel, timeLeft, payBefore, changeNetwork, sendOnly
    case walletTitle, walletHint, connectWallet, walletPay, walletConfirm, walletSent, walletNoProvider, walletSwitch, walletError
    case detectedTitle, detectedBody, confirmations, received, remaining, topUpHint, topUpLink
    case fundSentTitle, fundSentBody, transaction, viewOnExplorer, returnToMerchant
    case cancel, cancelTitle, cancelBody, cancelYes, cancelNo, canceledTitle, canceledBody
    case underpaidTitle, underpaidBody, rejectedTitle, rejectedBody, failedTitle, failedBody, expiredTitle, expiredBody
    case reviewTitle, reviewBody, sendBackTitle, sendBackBody
    case notFoundTitle, notFoundBody, language, poweredBy, autoRefresh, refresh, overpaidNote, lateNote, errorTitle
    case payWithAccount, payWithAccountHint, accountPayingTitle, accountPayingBody, accountPaymentFailed

    var english: String {
        switch self {
        case .pageTitle: "Checkout"
        case .order: "Order"
        case .orderId: "Order ID"
        case .amount: "Amount"
        case .rate: "1 {coin} = {rate} {fiat}"
        case .chooseTitle: "Choose how to pay"
        case .chooseHint: "Pick a network and a coin your wallet holds."
        case .network: "Network"
        case .coin: "Coin"
        case .continueButton: "Continue"
        case .noNetworks: "This order cannot be paid right now: no payment network is available. Please contact the merchant."
        case .scanTitle: "Scan or copy"
        case .scanHint: "Scan the code with your wallet app, or copy the address and the exact amount."
        case .depositAddress: "Address"
        case .exactAmount: "Exact amount"
        case .copy: "Copy"
        case .copied: "Copied"
        case .qrLabel: "QR code: send {amount} {coin} on {network} to {address}"
        case .timeLeft: "Time left"
        case .payBefore: "Pay before {time} (UTC)"
        case .changeNetwork: "Change network or coin"
        case .sendOnly: "Send only {coin} on {network}. Other coins or networks will not be credited to this order."
        case .walletTitle: "Pay with a browser wallet"
        case .walletHint: "MetaMask, Trust Wallet, Coinbase Wallet and other browser wallets."
        case .connectWallet: "Connect wallet"
        case .walletPay: "Pay {amount} {coin}"
        case .walletConfirm: "Confirm the payment in your wallet…"
        case .walletSent: "Transaction sent. Waiting for the network…"
        case .walletNoProvider: "No browser wallet found. Use the address and QR code above, or open this page in your wallet's browser."
        case .walletSwitch: "Switch your wallet to {network}."
        case .walletError: "The wallet did not send the payment: {reason}"
        case .detectedTitle: "Payment detected"
        case .detectedBody: "Your payment is on the {network} network and is being confirmed."
        case .confirmations: "Confirmations: {current} of {required}"
        case .received: "Received"
        case .remaining: "Still to pay"
        case .topUpHint: "The amount received is short. Send the rest to the same address before the time runs out."
        case .topUpLink: "Pay the rest"
        case .fundSentTitle: "Fund Sent"
        case .fundSentBody: "{amount} {coin} on {network} is confirmed. Thank you!"
        case .transaction: "Transaction"
        case .viewOnExplorer: "View on explorer"
        case .returnToMerchant: "Return to merchant"
        case .cancel: "Cancel payment"
        case .cancelTitle: "Cancel this payment?"
        case .cancelBody: "The order will not be paid. Do not send coins after canceling."
        case .cancelYes: "Yes, cancel"
        case .cancelNo: "No, go back"
        case .canceledTitle: "Payment canceled"
        case .canceledBody: "This payment was canceled. If you still want to buy, start again from the merchant's site."
        case .underpaidTitle: "Payment incomplete"
        case .underpaidBody:
            "We received {received} {coin}, but {missing} {coin} was missing when the payment window ended. Please contact the merchant about the order."
        case .rejectedTitle: "Payment not accepted"
        case .rejectedBody: "This payment did not pass compliance screening and is being held. Please contact the merchant."
        case .reviewTitle: "Payment under review"
        case .reviewBody: "Your payment arrived and is being reviewed before the order goes on. Do not send it again; the merchant will let you know."
        case .sendBackTitle: "Payment being returned"
        case .sendBackBody: "Your payment is being sent back to the address it came from. Please contact the merchant if you have questions."
        case .failedTitle: "Payment failed"
        case .failedBody: "This payment could not be completed. Please contact the merchant."
        case .expiredTitle: "Payment window ended"
        case .expiredBody:
            "The time to pay this order has run out. Do not send coins to the address shown before; start again from the merchant's site."
        case .notFoundTitle: "Checkout not found"
        case .notFoundBody: "This payment link is not valid. Check the link, or go back to the merchant's site."
        case .language: "Language"
        case .poweredBy: "Secured by StableGate"
        case .autoRefresh: "This page updates by itself."
        case .refresh: "Refresh"
        case .overpaidNote: "You paid {amount} {coin} more than the order; the merchant has been told."
        case .lateNote: "{amount} {coin} arrived after the order ended; the merchant has been told."
        case .errorTitle: "Something went wrong"
        case .payWithAccount: "Pay with StableGate account"
        case .payWithAccountHint: "Have a StableGate balance? Log in and pay in two clicks."
        case .accountPayingTitle: "Paying from your StableGate account"
        case .accountPayingBody: "{amount} {coin} is on its way from your StableGate account on {network}. This page updates by itself."
        case .accountPaymentFailed:
            "Your StableGate account payment could not be sent, and the amount is back in your balance. You can try again or pay another way."
        }
    }

    var chinese: String {
        switch self {
        case .pageTitle: "结账"
        case .order: "订单"
        case .orderId: "订单号"
        case .amount: "金额"
        case .rate: "1 {coin} = {rate} {fiat}"
        case .chooseTitle: "选择支付方式"
        case .chooseHint: "请选择您钱包中持有的网络和币种。"
        case .network: "网络"
        case .coin: "币种"
        case .continueButton: "继续"
        case .noNetworks: "当前无法支付此订单：没有可用的支付网络。请联系商家。"
        case .scanTitle: "扫码或复制"
        case .scanHint: "用钱包应用扫描二维码，或复制地址和准确金额。"
        case .depositAddress: "收款地址"
        case .exactAmount: "准确金额"
        case .copy: "复制"
        case .copied: "已复制"
        case .qrLabel: "二维码：在 {network} 网络上向 {address} 发送 {amount} {coin}"
        case .timeLeft: "剩余时间"
        case .payBefore: "请在 {time}（UTC）之前付款"
        case .changeNetwork: "更换网络或币种"
        case .sendOnly: "请仅发送 {network} 网络上的 {coin}。其他币种或网络不会计入此订单。"
        case .walletTitle: "使用浏览器钱包支付"
        case .walletHint: "支持 MetaMask、Trust Wallet、Coinbase Wallet 等浏览器钱包。"
        case .connectWallet: "连接钱包"
        case .walletPay: "支付 {amount} {coin}"
        case .walletConfirm: "请在钱包中确认付款…"
        case .walletSent: "交易已发送，等待网络确认…"
        case .walletNoProvider: "未找到浏览器钱包。请使用上方的地址和二维码，或在钱包应用的浏览器中打开此页面。"
        case .walletSwitch: "请将钱包切换到 {network}。"
        case .walletError: "钱包未发送付款：{reason}"
        case .detectedTitle: "已检测到付款"
        case .detectedBody: "您的付款已在 {network} 网络上，正在确认中。"
        case .confirmations: "确认数：{current} / {required}"
        case .received: "已收到"
        case .remaining: "尚需支付"
        case .topUpHint: "收到的金额不足。请在时间结束前将余额发送到同一地址。"
        case .topUpLink: "支付余额"
        case .fundSentTitle: "付款成功"
        case .fundSentBody: "{network} 网络上的 {amount} {coin} 已确认。谢谢！"
        case .transaction: "交易"
        case .viewOnExplorer: "在区块浏览器中查看"
        case .returnToMerchant: "返回商家"
        case .cancel: "取消付款"
        case .cancelTitle: "确定取消此付款吗？"
        case .cancelBody: "订单将不会被支付。取消后请勿再发送任何币。"
        case .cancelYes: "是，取消"
        case .cancelNo: "不，返回"
        case .canceledTitle: "付款已取消"
        case .canceledBody: "此付款已取消。如仍需购买，请从商家网站重新开始。"
        case .underpaidTitle: "付款不足"
        case .underpaidBody: "我们收到了 {received} {coin}，但付款时间结束时仍差 {missing} {coin}。请联系商家处理此订单。"
        case .rejectedTitle: "付款未被接受"
        case .rejectedBody: "此付款未通过合规审查，资金已被冻结。请联系商家。"
        case .reviewTitle: "付款审核中"
        case .reviewBody: "您的付款已到账，正在审核后继续处理订单。请勿重复付款，商家会通知您。"
        case .sendBackTitle: "付款退回中"
        case .sendBackBody: "您的付款正在退回到付款地址。如有疑问请联系商家。"
        case .failedTitle: "付款失败"
        case .failedBody: "此付款无法完成。请联系商家。"
        case .expiredTitle: "付款时间已结束"
        case .expiredBody: "此订单的付款时间已过。请勿再向之前显示的地址发送币，请从商家网站重新开始。"
        case .notFoundTitle: "未找到结账页面"
        case .notFoundBody: "此付款链接无效。请检查链接，或返回商家网站。"
        case .language: "语言"
        case .poweredBy: "由 StableGate 提供安全保障"
        case .autoRefresh: "此页面会自动更新。"
        case .refresh: "刷新"
        case .overpaidNote: "您比订单多支付了 {amount} {coin}，商家已收到通知。"
        case .lateNote: "{amount} {coin} 在订单结束后到账，商家已收到通知。"
        case .errorTitle: "出现问题"
        case .payWithAccount: "使用 StableGate 账户支付"
        case .payWithAccountHint: "已有 StableGate 余额？登录后两步完成支付。"
        case .accountPayingTitle: "正在从您的 StableGate 账户付款"
        case .accountPayingBody: "{amount} {coin} 正从您在 {network} 上的 StableGate 账户转出。本页会自动更新。"
        case .accountPaymentFailed: "您的 StableGate 账户付款未能发送，款项已退回您的余额。您可以重试或使用其他方式支付。"
        }
    }
}
