using System.Security.Cryptography;
using BeijingEts.Domain.Reporting;
using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Errors;
using BeijingEts.Functions.Lists;
using BeijingEts.Functions.Uploads;

namespace BeijingEts.Functions.Reporting;

public enum AttachmentStatus
{
    AwaitingUpload,
    Received,
    Rejected,
}

/// <summary>
/// A supporting document of a unit's year (Art. 22): the link it was issued, and once uploaded its hash, size and
/// retention. A laboratory test report (检验检测报告) carries what it tests in <see cref="Test"/>, a document answering an
/// enforcement case or evidence of an adjustment application what it is for in <see cref="For"/>; the others support the annual report.
/// </summary>
public sealed record ReportAttachment(
    string Id, string Uscc, int Year, string FileName, string? Description, string BlobName, AttachmentStatus Status, string? Reason,
    string? Sha256, long? SizeBytes, DateTimeOffset? ReceivedAt, DateOnly? RetainUntil, DateTimeOffset IssuedAt, DateTimeOffset LinkExpiresAt, string IssuedBy,
    LabTest? Test = null, AttachmentFor? For = null);

/// <summary>What a document is for other than the annual report: a request of an enforcement case (its number as the item), or an adjustment application.</summary>
public sealed record AttachmentFor(string Kind, string Id, int? Item = null)
{
    public const string Case = "case";
    public const string Adjustment = "adjustment";

    /// <summary>Where its arrival is audited: the case's or the application's trail.</summary>
    public string Subject => $"{(Kind == Case ? "cases" : "adjustments")}/{Id}";
}

/// <summary>What a laboratory test report tests: the laboratory, the parameter of a fuel, the period, and the plan version that measures it.</summary>
public sealed record LabTest(string Laboratory, string Parameter, string Fuel, DateOnly PeriodFrom, DateOnly PeriodTo, int PlanVersion);

/// <summary>The reportattachments table: partition {uscc}-{yyyy}, one row per attachment.</summary>
public sealed class ReportAttachmentStore(StorageClients storage)
{
    private TableClient Table => storage.Table(StorageNames.Tables.ReportAttachments);

    private static string Partition(string uscc, int year) => $"{uscc}-{DocumentRows.YearKey(year)}";

    public Task AddAsync(ReportAttachment attachment, CancellationToken cancellationToken) =>
        Table.AddEntityAsync(DocumentRows.Entity(Partition(attachment.Uscc, attachment.Year), attachment.Id, attachment), cancellationToken);

    public Task<ReportAttachment?> FindAsync(string uscc, int year, string id, CancellationToken cancellationToken) =>
        Table.FindDocumentAsync<ReportAttachment>(Partition(uscc, year), id, cancellationToken);

    public async Task<IReadOnlyList<ReportAttachment>> ListAsync(string uscc, int year, CancellationToken cancellationToken) =>
        (await Table.ReadPartitionAsync<ReportAttachment>(Partition(uscc, year), cancellationToken)).OrderBy(a => a.IssuedAt).ToList();

    /// <summary>Files the upload once: only an attachment still awaiting its upload changes.</summary>
    public async Task<bool> FileAsync(ReportAttachment filed, CancellationToken cancellationToken)
    {
        var found = await Table.GetEntityIfExistsAsync<TableEntity>(Partition(filed.Uscc, filed.Year), filed.Id, cancellationToken: cancellationToken);
        if (!found.HasValue || DocumentRows.Read<ReportAttachment>(found.Value!).Status != AttachmentStatus.AwaitingUpload) return false;
        // False when a concurrent delivery of the same event filed it first.
        return await Table.TryWriteAsync(DocumentRows.Entity(Partition(filed.Uscc, filed.Year), filed.Id, filed), found.Value!.ETag, cancellationToken);
    }
}

/// <summary>Where attachments go in the uploads container: attachments/{uscc}/{yyyy}/{id}/{fileName}.</summary>
public static class AttachmentPaths
{
    public const string Root = "attachments/";

    public static string For(string uscc, int year, string id, string fileName) => $"{Root}{uscc}/{DocumentRows.YearKey(year)}/{id}/{fileName}";

    public static bool TryParse(string blobName, out string uscc, out int year, out string id)
    {
        (uscc, year, id) = ("", 0, "");
        var parts = blobName.Split('/', 5);
        if (parts.Length != 5 || parts[0] + "/" != Root || parts[2].Length != 4 || !int.TryParse(parts[2], System.Globalization.NumberStyles.None, null, out year)) return false;
        (uscc, id) = (parts[1], parts[3]);
        return true;
    }
}

/// <summary>
/// POST /api/units/{uscc}/reports/{year}/attachments (the unit): a create-only signed link for one supporting document
/// of the annual report, bound to one new blob path. GET: the attachments, with short-lived download links to the
/// received ones (the unit, its district, the regulator).
/// </summary>
public sealed class ReportAttachmentEndpoints : IHttpFunction
{
    public const int MaxFileName = 120;

    public sealed record Request(string FileName, string? Description = null);

    public sealed record Link(string Id, string FileName, Uri UploadUrl, DateTimeOffset ExpiresAt, long MaxBytes);

    public sealed record View(ReportAttachment Attachment, Uri? DownloadUrl);

    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapPost("/units/{uscc}/reports/{year:int}/attachments", IssueAsync).WithTags("Reports");
        api.MapGet("/units/{uscc}/reports/{year:int}/attachments", (string uscc, int year, HttpContext http, UnitStore units, ReportAttachmentStore attachments,
                UploadLinks links, CancellationToken ct) =>
            UnitInput.ReadVisibleAsync(uscc, http.User, units, "report attachments",
                async code => await ViewsAsync((await attachments.ListAsync(code, year, ct)).Where(a => a is { Test: null, For: null }).ToList(), links, ct), code => "", ct)).WithTags("Reports");
    }

    private static async Task<Results<Created<Link>, ProblemHttpResult>> IssueAsync(
        string uscc, int year, Request request, HttpContext http, UnitStore units, ReportingUnits reporting, ReportAttachmentStore attachments,
        UploadLinks links, UploadSettings settings, AuditLog audit, TimeProvider clock, CancellationToken cancellationToken)
    {
        var (unit, problem) = await UnitInput.FindVisibleAsync(uscc, http.User, units, "A unit uploads its own report's attachments.", cancellationToken);
        if (unit is null) return problem!;
        if (!UnitAccess.IsUnit(http.User, unit.Uscc)) return Problems.Forbidden("A unit uploads its own report's attachments.");
        if (DocumentProblem(request.FileName, request.Description) is { } bad) return bad;
        if (await reporting.RefuseAsync(unit.Uscc, year, cancellationToken) is { } refused) return refused;
        var link = await IssueLinkAsync(unit.Uscc, year, request.FileName.Trim(), request.Description, null, Actor.From(http.User), "report.attachment-link-issued",
            $"units/{unit.Uscc}/reports/{year}", attachments, links, settings, audit, clock, cancellationToken);
        return TypedResults.Created($"/api/units/{unit.Uscc}/reports/{year}/attachments", link);
    }

    /// <summary>What is wrong with a document's file name or description, as a 400; null when both are usable.</summary>
    internal static ProblemHttpResult? DocumentProblem(string? fileName, string? description)
    {
        var name = fileName?.Trim() ?? "";
        if (name.Length is 0 or > MaxFileName || name is "." or ".." || name.Any(c => c is '/' or '\\' || char.IsControl(c)))
        {
            return ProblemHandling.BadRequest($"fileName '{fileName}' is not usable: give the document's file name, 1 to {MaxFileName} characters, without / or \\.");
        }
        return description?.Length > ReportLimits.MaxText ? ProblemHandling.BadRequest($"description is over {ReportLimits.MaxText} characters.") : null;
    }

    /// <summary>Records a document awaiting its upload and issues the create-only link for its one blob path.</summary>
    internal static async Task<Link> IssueLinkAsync(string uscc, int year, string fileName, string? description, LabTest? test, Actor actor, string action, string subject,
        ReportAttachmentStore attachments, UploadLinks links, UploadSettings settings, AuditLog audit, TimeProvider clock, CancellationToken cancellationToken,
        AttachmentFor? purpose = null)
    {
        var id = Guid.NewGuid().ToString("N");
        var blobName = AttachmentPaths.For(uscc, year, id, fileName);
        var link = await links.ForUploadAsync(blobName, cancellationToken);
        var attachment = new ReportAttachment(id, uscc, year, fileName, description?.Trim(), blobName, AttachmentStatus.AwaitingUpload, null,
            null, null, null, null, clock.GetUtcNow(), link.ExpiresAt, actor.Id, test, purpose);
        await attachments.AddAsync(attachment, cancellationToken);
        await audit.RecordAsync(actor, action, subject, null, attachment, cancellationToken);
        return new Link(id, fileName, link.Url, link.ExpiresAt, settings.MaxAttachmentBytes);
    }

    internal static async Task<IReadOnlyList<View>> ViewsAsync(IReadOnlyList<ReportAttachment> attachments, UploadLinks links, CancellationToken cancellationToken)
    {
        var views = new List<View>();
        foreach (var a in attachments)
        {
            views.Add(new View(a, a.Status == AttachmentStatus.Received ? (await links.ForDownloadAsync(a.BlobName, cancellationToken)).Url : null));
        }
        return views;
    }
}

/// <summary>Files an attachment when it arrives: its SHA-256, size and retention; one over the size limit is refused unread and not kept.</summary>
public sealed class AttachmentUploads(StorageClients storage, ReportAttachmentStore attachments, UploadSettings settings, AuditLog audit, TimeProvider clock,
    ILogger<AttachmentUploads> logger) : IUploadHandler
{
    public string Prefix => AttachmentPaths.Root;

    public long MaxBytes(string blobName) => settings.MaxAttachmentBytes;

    public async Task RefuseAsync(UploadRecord upload, long limit, CancellationToken cancellationToken)
    {
        if (await PendingAsync(upload, cancellationToken) is not { } attachment) return;
        await FileAsync(attachment, attachment with
        {
            Status = AttachmentStatus.Rejected,
            Reason = $"The file is {upload.ContentLength} bytes, over the {limit}-byte limit; ask for a new link and upload a smaller file.",
            SizeBytes = upload.ContentLength,
        }, cancellationToken);
    }

    public async Task HandleAsync(UploadRecord upload, CancellationToken cancellationToken)
    {
        if (await PendingAsync(upload, cancellationToken) is not { } attachment) return;
        var blob = storage.Container(StorageNames.Containers.Uploads).GetBlobClient(upload.BlobName);
        long size;
        string sha256;
        await using (var stream = await blob.OpenReadAsync(cancellationToken: cancellationToken))
        {
            size = stream.Length;
            sha256 = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken));
        }
        var now = clock.GetUtcNow();
        await FileAsync(attachment, attachment with
        {
            Status = AttachmentStatus.Received,
            Sha256 = sha256,
            SizeBytes = size,
            ReceivedAt = now,
            RetainUntil = Retention.Until(now),
        }, cancellationToken);
    }

    private async Task<ReportAttachment?> PendingAsync(UploadRecord upload, CancellationToken cancellationToken)
    {
        var attachment = AttachmentPaths.TryParse(upload.BlobName, out var uscc, out var year, out var id)
            ? await attachments.FindAsync(uscc, year, id, cancellationToken)
            : null;
        if (attachment is null || attachment.BlobName != upload.BlobName)
        {
            logger.LogWarning("Upload {BlobName} matches no attachment link; not filed", upload.BlobName);
            return null;
        }
        return attachment.Status == AttachmentStatus.AwaitingUpload ? attachment : null;
    }

    private async Task FileAsync(ReportAttachment attachment, ReportAttachment filed, CancellationToken cancellationToken)
    {
        if (await attachments.FileAsync(filed, cancellationToken))
        {
            var subject = attachment.For is { } purpose ? purpose.Subject
                : $"units/{attachment.Uscc}/{(attachment.Test is null ? "reports" : "quality-plans")}/{attachment.Year}";
            await audit.RecordAsync(Actor.System(nameof(AttachmentUploads)), "report.attachment-received", subject, attachment, filed, cancellationToken);
        }
    }
}
