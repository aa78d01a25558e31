using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace BeijingEts.Functions.Notifications;

/// <summary>The email relay: locally smtp4dev (run.sh starts it), in Azure Communication Services' SMTP endpoint (infra/).</summary>
public sealed record SmtpSettings(string Host, int Port, SecureSocketOptions Security, string? UserName, string? Password, string FromAddress, string FromName);

/// <summary>
/// Ets:Notices: the relay (<c>Smtp:Host</c>, <c>Smtp:Port</c>, <c>Smtp:Security</c> None|StartTls|SslOnConnect|Auto,
/// <c>Smtp:UserName</c>, <c>Smtp:Password</c>, <c>Smtp:From</c>, <c>Smtp:FromName</c>; no host, no email: notices stay in
/// the inbox), the reminders' lead times in working days (<c>ReminderLeadWorkingDays</c>, "10,3,1") and the days after a
/// month's end its data is due (<c>MonthlyDataDueDays</c>).
/// </summary>
public sealed record NoticeSettings(SmtpSettings? Smtp, IReadOnlyList<int> ReminderLeadWorkingDays, int MonthlyDataDueDays = NoticeSettings.DefaultMonthlyDataDueDays)
{
    /// <summary>
    /// The Measures set no day for a month's data (Art. 21-22 only require it); this default follows the national
    /// market's practice of a month's data within 40 days of its end (环办气候函〔2022〕111号). A setting, <c>MonthlyDataDueDays</c>.
    /// </summary>
    public const int DefaultMonthlyDataDueDays = 40;

    /// <summary>The day a month's data is due: the set number of days after the month's last day.</summary>
    public DateOnly MonthlyDataDue(int year, int month) => new DateOnly(year, month, 1).AddMonths(1).AddDays(MonthlyDataDueDays - 1);

    public static NoticeSettings From(IConfiguration configuration)
    {
        var section = configuration.GetSection("Ets:Notices");
        var smtp = section.GetSection("Smtp");
        SmtpSettings? relay = null;
        if (smtp["Host"] is { Length: > 0 } host)
        {
            var port = int.TryParse(smtp["Port"], CultureInfo.InvariantCulture, out var p) && p is > 0 and < 65536
                ? p : throw new InvalidOperationException("Ets:Notices:Smtp:Port must be a port number when Ets:Notices:Smtp:Host is set.");
            var security = Enum.TryParse<SecureSocketOptions>(smtp["Security"] ?? "Auto", ignoreCase: true, out var s)
                ? s : throw new InvalidOperationException("Ets:Notices:Smtp:Security must be None, StartTls, SslOnConnect or Auto.");
            relay = new SmtpSettings(host, port, security, smtp["UserName"], smtp["Password"],
                smtp["From"] ?? "notices@ets.sthjj.beijing.gov.cn", smtp["FromName"] ?? "北京市碳排放权交易管理平台");
        }
        var leads = (section["ReminderLeadWorkingDays"] ?? "10,3,1").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(v => int.TryParse(v, CultureInfo.InvariantCulture, out var d) && d is > 0 and <= 60
                ? d : throw new InvalidOperationException($"Ets:Notices:ReminderLeadWorkingDays: '{v}' is not a number of working days from 1 to 60."))
            .Distinct().OrderDescending().ToList();
        var monthly = section["MonthlyDataDueDays"] is { } days
            ? int.TryParse(days, CultureInfo.InvariantCulture, out var d2) && d2 is > 0 and <= 120 ? d2 : throw new InvalidOperationException($"Ets:Notices:MonthlyDataDueDays: '{days}' is not a number of days from 1 to 120.")
            : DefaultMonthlyDataDueDays;
        return new NoticeSettings(relay, leads, monthly);
    }
}

/// <summary>Sends one party's notices as emails, one SMTP session for the lot.</summary>
public interface INoticeMailer
{
    Task SendAsync(IReadOnlyList<(Notice Notice, IReadOnlyList<Contact> To)> mails, CancellationToken cancellationToken);
}

public sealed class SmtpNoticeMailer(NoticeSettings settings) : INoticeMailer
{
    public async Task SendAsync(IReadOnlyList<(Notice Notice, IReadOnlyList<Contact> To)> mails, CancellationToken cancellationToken)
    {
        var relay = settings.Smtp ?? throw new InvalidOperationException("No email relay is configured (Ets:Notices:Smtp:Host).");
        using var client = new SmtpClient { Timeout = 30_000 };
        await client.ConnectAsync(relay.Host, relay.Port, relay.Security, cancellationToken);
        if (relay.UserName is { Length: > 0 }) await client.AuthenticateAsync(relay.UserName, relay.Password ?? "", cancellationToken);
        foreach (var (notice, to) in mails) await client.SendAsync(Compose(relay, notice, to), cancellationToken);
        await client.DisconnectAsync(quit: true, cancellationToken);
    }

    /// <summary>
    /// Chinese subject and body, the English below. The Message-Id is fixed by the notice, so a message sent twice (the
    /// process stopped between sending and recording it) is one message to the recipients' mail systems.
    /// </summary>
    public static MimeMessage Compose(SmtpSettings relay, Notice notice, IReadOnlyList<Contact> to)
    {
        var message = new MimeMessage { Subject = $"{notice.SubjectZh} | {notice.SubjectEn}" };
        message.From.Add(new MailboxAddress(relay.FromName, relay.FromAddress));
        foreach (var contact in to) message.To.Add(new MailboxAddress(contact.Name, contact.Email));
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{notice.Party}/{notice.Id}")))[..32];
        message.MessageId = $"{hash}@{relay.FromAddress.Split('@')[^1]}";
        var body = new StringBuilder()
            .AppendLine(notice.BodyZh).AppendLine()
            .AppendLine("——").AppendLine()
            .AppendLine(notice.SubjectEn).AppendLine()
            .AppendLine(notice.BodyEn).AppendLine();
        if (notice.Link is not null) body.AppendLine($"{notice.Link}");
        body.AppendLine().AppendLine("本邮件由系统发送，请登录平台查看详情。This message was sent by the platform; sign in to see the details.");
        message.Body = new TextPart("plain") { Text = body.ToString() };
        return message;
    }
}

/// <summary>
/// The queue function: each message names one party's notices. Each is sent unless it was sent already, to the party's
/// registered contacts, and recorded as sent; a relay that fails leaves the message to be tried again (the queue's retries,
/// host.json), and at the last try each notice still unsent is recorded as a dead letter for the regulator.
/// </summary>
[QueueTrigger(StorageNames.Queues.NoticeDelivery)]
public sealed class DeliverNotices(NoticeStore notices, ContactStore contacts, INoticeMailer mailer, HostSettings host, TimeProvider clock,
    ILogger<DeliverNotices> logger) : IQueueFunction
{
    public sealed record Message(string Party, IReadOnlyList<string> Ids);

    internal static readonly JsonSerializerOptions QueueJson = new(JsonSerializerDefaults.Web);

    public async Task RunAsync(QueueTriggerMessage message, CancellationToken cancellationToken)
    {
        var (partyKey, ids) = message.Read<Message>();
        if (Party.Parse(partyKey) is not { } party) return; // not a message this app wrote
        var owed = new List<(Notice Notice, ETag ETag)>();
        foreach (var id in ids.Distinct(StringComparer.Ordinal))
        {
            if (await notices.FindAsync(party, id, cancellationToken) is { } found && found.Notice.DeliveredAt is null && found.Notice.Delivery != "dead-lettered")
            {
                owed.Add(found);
            }
        }
        if (owed.Count == 0) return;

        var to = (await contacts.FindAsync(party, cancellationToken))?.Contacts ?? [];
        if (to.Count == 0)
        {
            // Nobody to write to: the notice stays in the inbox, where the party reads it.
            await RecordAsync(owed, n => n with { Delivery = "no-contacts" }, cancellationToken);
            return;
        }
        try
        {
            await mailer.SendAsync(owed.Select(o => (o.Notice, (IReadOnlyList<Contact>)to)).ToList(), cancellationToken);
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            var last = message.DequeueCount >= host.Queues.MaxDequeueCount;
            logger.LogWarning(error, "Delivering {Count} notices to {Party} failed (try {Try}).", owed.Count, party.Key, message.DequeueCount);
            var failed = await RecordAsync(owed, n => n with
            {
                Delivery = last ? "dead-lettered" : "retrying", Attempts = n.Attempts + 1, LastError = Describe(error),
            }, cancellationToken);
            if (!last) throw;
            foreach (var notice in failed) await notices.AddDeadLetterAsync(notice, cancellationToken);
            return;
        }
        var now = clock.GetUtcNow();
        await RecordAsync(owed, n => n with
        {
            Delivery = "sent", DeliveredAt = now, Attempts = n.Attempts + 1, LastError = null, SentTo = to.Select(c => c.Email).ToList(),
        }, cancellationToken);
    }

    /// <summary>Applies the change to each notice; one changed since read (read in the inbox meanwhile) is read again and changed.</summary>
    private async Task<IReadOnlyList<Notice>> RecordAsync(IReadOnlyList<(Notice Notice, ETag ETag)> owed, Func<Notice, Notice> change, CancellationToken cancellationToken)
    {
        var recorded = new List<Notice>();
        foreach (var (first, firstEtag) in owed)
        {
            var (notice, etag) = (first, firstEtag);
            while (true)
            {
                var changed = change(notice);
                if (await notices.TryReplaceAsync(changed, etag, cancellationToken))
                {
                    recorded.Add(changed);
                    break;
                }
                if (await notices.FindAsync(Party.Parse(notice.Party)!, notice.Id, cancellationToken) is not { } again) break;
                (notice, etag) = again;
            }
        }
        return recorded;
    }

    /// <summary>What the regulator is shown of a failure: the relay's own words, never a stack.</summary>
    private static string Describe(Exception error) => error switch
    {
        SmtpCommandException smtp => $"The relay refused: {(int)smtp.StatusCode} {smtp.Message}",
        SmtpProtocolException protocol => $"The relay broke the protocol: {protocol.Message}",
        System.Net.Sockets.SocketException socket => $"The relay could not be reached: {socket.SocketErrorCode}",
        AuthenticationException => "The relay refused the credentials.",
        _ => $"{error.GetType().Name}: {error.Message}",
    };
}

/// <summary>
/// Every five minutes: a notice owed an email for over five minutes lost its queue message (the process stopped between
/// writing it and queueing it) or waits behind a backlog; it is queued again. Delivering twice is harmless: a sent notice is skipped.
/// </summary>
[TimerTrigger("0 */5 * * * *")]
public sealed class ResendOwedNotices(NoticeStore notices, NoticeOutbox outbox, NoticeSettings settings, TimeProvider clock) : ITimerFunction
{
    private static readonly TimeSpan Lost = TimeSpan.FromMinutes(5);

    public async Task RunAsync(TimerTriggerInfo timer, CancellationToken cancellationToken)
    {
        if (settings.Smtp is null) return;
        var owed = new List<Notice>();
        await foreach (var notice in notices.OwedAsync(clock.GetUtcNow() - Lost, cancellationToken)) owed.Add(notice);
        await outbox.EnqueueAsync(owed, cancellationToken);
    }
}
