using BeijingEts.Functions.Uploads;

namespace BeijingEts.Functions.Reporting;

public static class ReportingServices
{
    public static IServiceCollection AddReporting(this IServiceCollection services) => services
        .AddSingleton<EmissionFactorStore>()
        .AddSingleton<ReportStore>()
        .AddSingleton<ReportingUnits>()
        .AddSingleton<VerificationStore>()
        .AddSingleton<ConfirmationStore>()
        .AddSingleton<EmissionConfirmations>()
        .AddSingleton<ReportAttachmentStore>()
        .AddSingleton<IUploadHandler, AttachmentUploads>()
        .AddSingleton<MonthlyDataStore>()
        .AddSingleton<QualityPlanStore>();
}
